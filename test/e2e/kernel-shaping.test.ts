import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { compileText } from '../../compiler/pipeline.js';
import { cidrBlocks } from '../../runtime/shaping/cidr-blocks.js';
import { planEgress } from '../../model/egress-plan.js';
import { applyTc, kernelShortfall, probeKernel, tcRunner } from '../../runtime/shaping/kernel-backend.js';
import { renderTc } from '../../runtime/shaping/tc-plan.js';
import { AgentLink } from '../../runtime/agent/agent-link.js';
import { startKernelShaping } from '../../runtime/shaping/kernel-shaping.js';
import { netRunner } from '../../runtime/shaping/apply-marks.js';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { connect } from '../../sdk/index.js';
import { repoRoot } from '../support/helpers.js';
import { NetLab, netSkipReason } from '../support/net-lab.js';
import { tcGolden } from '../support/tc-golden.js';
import { WsClient } from '../support/ws-client.js';

const netProbe = join(repoRoot, 'test/tools/net-probe.mjs');

const skip = netSkipReason();

test('CIDR blocks cover exactly the addresses, with the fewest blocks', () => {
  assert.deepEqual(cidrBlocks(['198.18.0.4', '198.18.0.5', '198.18.0.6', '198.18.0.7']), ['198.18.0.4/30']);
  assert.deepEqual(cidrBlocks(['198.18.0.3', '198.18.0.4', '198.18.0.5']), ['198.18.0.3/32', '198.18.0.4/31']);
  assert.deepEqual(cidrBlocks(['198.18.1.9', '198.18.0.1']), ['198.18.0.1/32', '198.18.1.9/32']);
  const many = Array.from({ length: 256 }, (_, i) => `198.18.2.${i}`);
  assert.deepEqual(cidrBlocks(many), ['198.18.2.0/24']);
});

test('tc golden: the full fixture, every netem option rendered', () => {
  assert.equal(
    tcGolden(),
    readFileSync(join(repoRoot, 'test/fixtures/tc/full.txt'), 'utf8'),
    'test/fixtures/tc/full.txt is stale: npm run accept',
  );
});

/**
 * Namespace `a` (one instance) and namespace `b` holding two instances' addresses (.2 of
 * group "b", .3 of group "c"), joined by a veth pair. Torn down, and checked gone, after.
 */
async function vethLab(t: TestContext): Promise<{ lab: NetLab; a: string; b: string; dev: string }> {
  const lab = NetLab.forTest(t);
  const a = await lab.netns('a');
  const b = await lab.netns('b');
  const [dev] = await lab.veth(a, b, ['198.18.1.1/24'], ['198.18.1.2/24', '198.18.1.3/24']);
  return { lab, a, b, dev };
}

test(
  'kernel probe: reports what this kernel has; a netem shape is refused naming sch_netem when it lacks it',
  { skip },
  async (t) => {
    const { a, dev } = await vethLab(t);
    const tc = tcRunner(a);
    const direct = await tc(['qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', '1ms']);
    await tc(['qdisc', 'del', 'dev', dev, 'root']);
    const caps = await probeKernel(dev, tc);
    assert.equal(caps.netem, direct.code === 0, 'the probe agrees with a direct attempt');
    assert.ok(caps.htb && caps.u32 && caps.drop, JSON.stringify(caps.errors));
    const { plan } = compileText(
      'p.toml',
      'version = 1\nname = "p"\n[defaults]\ncommand = ["x"]\n[network]\nlatency = "10ms"\n[[groups]]\nid = ' +
        '"a"\ninstances = 1\n',
    );
    const tcPlan = renderTc(planEgress(plan!, 'a'), { device: dev, addresses: new Map([['a', ['198.18.1.2']]]) });
    assert.equal(tcPlan.needsNetem, true);
    const shortfall = kernelShortfall(tcPlan, caps);
    if (caps.netem) assert.equal(shortfall, undefined);
    else assert.match(shortfall!, /sch_netem/);
    // The probe leaves the device as it found it.
    assert.doesNotMatch((await tc(['qdisc', 'show', 'dev', dev])).stdout, /htb|netem/);
  },
);

test(
  'kernel backend: HTB rate, filters and a partition, applied for real; counters and a 10 Mbit/s transfer',
  { skip },
  async (t) => {
    const { lab, a, b, dev } = await vethLab(t);
    const { plan } = compileText(
      'p.toml',
      'version = 1\nname = "p"\n[defaults]\ncommand = ["x"]\n[[network.links]]\nfrom = "a"\nto = "b"\nbandwidth = ' +
        '"10Mbit"\n[[network.links]]\nfrom = "a"\nto = "c"\nblocked = true\n[[groups]]\nid = "a"\ninstances = ' +
        '1\n[[groups]]\nid = "b"\ninstances = 1\n[[groups]]\nid = "c"\ninstances = 1\n',
    );
    assert.ok(plan);
    const tcPlan = renderTc(planEgress(plan, 'a'), {
      device: dev,
      addresses: new Map([
        ['a', ['198.18.1.1']],
        ['b', ['198.18.1.2']],
        ['c', ['198.18.1.3']],
      ]),
    });
    const tc = tcRunner(a);
    assert.equal(kernelShortfall(tcPlan, await probeKernel(dev, tc)), undefined);
    await applyTc(dev, tcPlan, tc);

    // 10 Mbit/s towards group b.
    const sink = await lab.probe(b, ['tcp-sink', 7100], true);
    await (await lab.probe(a, ['tcp-send', '198.18.1.2', 7100, 4_000_000])).result.catch(() => undefined);
    const r = (await sink.result) as { bytes: number; ms: number };
    const mbit = (r.bytes * 8) / (r.ms / 1000) / 1e6;
    assert.ok(mbit >= 9 && mbit <= 11, `${mbit.toFixed(2)} Mbit/s`);

    // Group c is cut off from a; c → a still flows.
    const sinkC = await lab.probe(b, ['sink', 7101, 1200], true);
    const sinkA = await lab.probe(a, ['sink', 7101, 1200], true);
    await (
      await lab.probe(a, ['stream', '198.18.1.3', 7101, 50, 2])
    ).result;
    await (
      await lab.probe(b, ['stream', '198.18.1.1', 7101, 50, 2])
    ).result;
    assert.equal(((await sinkC.result) as { received: number }).received, 0);
    assert.equal(((await sinkA.result) as { received: number }).received, 50);

    // The counters: the 4 MB went through the rate-limited class, not the default one.
    const classes = (await tc(['-s', 'class', 'show', 'dev', dev])).stdout;
    const sent = (classid: string) =>
      Number(new RegExp(`class htb ${classid} [^]*?Sent (\\d+) bytes`).exec(classes)?.[1]);
    assert.ok(sent('1:10') > 4_000_000, `1:10 sent ${sent('1:10')}\n${classes}`);
    assert.ok(sent('1:1') < 1_000_000, `1:1 sent ${sent('1:1')}`);
    const filters = (await tc(['-s', 'filter', 'show', 'dev', dev])).stdout;
    assert.match(filters, /mirred \(Egress Redirect to device lo\) stolen[^]*?Sent \d+ bytes 50 pkt/);
  },
);

test(
  'kernel agent: applies, reports ready, takes a mid-run configure; refuses what the kernel lacks before any traffic',
  { skip },
  async (t) => {
    const { a, dev } = await vethLab(t);
    const tc = tcRunner(a);
    const caps = await probeKernel(dev, tc);
    const coordinator = new Coordinator({ instances: 1, agents: true });
    const port = await coordinator.listen(0);
    t.after(() => coordinator.close());
    const { plan } = compileText(
      'p.toml',
      'version = 1\nname = "p"\n[defaults]\ncommand = ["x"]\n[[network.links]]\nfrom = "a"\nto = "b"\nbandwidth = ' +
        '"10Mbit"\n[[groups]]\nid = "a"\ninstances = 1\n[[groups]]\nid = "b"\ninstances = 1\n[run]\ntotal_instances ' +
        '= 2\n',
    );
    assert.ok(plan);
    const link = await AgentLink.open(`127.0.0.1:${port}`, 'a-0');
    t.after(() => link.close());
    const addresses = new Map([
      ['a', ['198.18.1.1']],
      ['b', ['198.18.1.2']],
    ]);
    await startKernelShaping({ plan, instance: 'a-0', group: 'a', device: dev, tc, addresses, link });
    const env = await connect({ coordinator: `127.0.0.1:${port}`, group: 'a', instance: 'a-0', env: {} });
    await env.network.waitReady();
    assert.match((await tc(['class', 'show', 'dev', dev])).stdout, /rate 10Mbit/);
    await env.network.configure({ bandwidth: '2Mbit' });
    assert.match((await tc(['class', 'show', 'dev', dev])).stdout, /rate 2Mbit/);
    if (!caps.netem) {
      // A shape this kernel cannot apply is refused, and the old one stays.
      await assert.rejects(env.network.configure({ latency: '10ms' }), {
        code: 'configure_failed',
        message: /sch_netem/,
      });
      assert.match((await tc(['class', 'show', 'dev', dev])).stdout, /rate 2Mbit/);
    }
    await env.success();
    await env.close();
  },
);

test(
  'kernel agent: a plan that needs netem on a kernel without it fails the run before it starts',
  { skip },
  async (t) => {
    const { a, dev } = await vethLab(t);
    const tc = tcRunner(a);
    if ((await probeKernel(dev, tc)).netem) return t.skip('this kernel has sch_netem');
    const coordinator = new Coordinator({ instances: 1, agents: true });
    const port = await coordinator.listen(0);
    t.after(() => coordinator.close());
    const { plan } = compileText(
      'p.toml',
      'version = 1\nname = "p"\n[defaults]\ncommand = ["x"]\n[network]\nlatency = "100ms"\n[[groups]]\nid = ' +
        '"a"\ninstances = 1\n',
    );
    const link = await AgentLink.open(`127.0.0.1:${port}`, 'a-0');
    t.after(() => link.close());
    await assert.rejects(
      startKernelShaping({
        plan: plan!,
        instance: 'a-0',
        group: 'a',
        device: dev,
        tc,
        addresses: new Map([['a', ['198.18.1.2']]]),
        link,
      }),
      /sch_netem/,
    );
    const results = await coordinator.ended;
    assert.equal(results.outcome, 'failure');
    assert.match(results.reason!, /a-0.*sch_netem/);
  },
);

test(
  'kernel agent: a Testground Reject rule is a prohibit route (a connect fails at once); no rule removes it',
  { skip },
  async (t) => {
    const { a, dev } = await vethLab(t);
    const coordinator = new Coordinator({ instances: 2, groups: { a: 1, b: 1 }, agents: true });
    const port = await coordinator.listen(0);
    t.after(() => coordinator.close());
    const { plan } = compileText(
      'p.toml',
      'version = 1\nname = "p"\n[defaults]\ncommand = ["x"]\n[[groups]]\nid = "a"\ninstances = 1\n' +
        '[[groups]]\nid = "b"\ninstances = 1\n',
    );
    const link = await AgentLink.open(`127.0.0.1:${port}`, 'a-0', { dataIp: '198.18.1.1' });
    const other = await AgentLink.open(`127.0.0.1:${port}`, 'b-0', { dataIp: '198.18.1.2' });
    t.after(() => (link.close(), other.close()));
    await startKernelShaping({
      plan: plan!,
      instance: 'a-0',
      group: 'a',
      device: dev,
      tc: tcRunner(a),
      addresses: new Map([
        ['a', ['198.18.1.1']],
        ['b', ['198.18.1.2']],
      ]),
      link,
      addressOf: (name) => (name === 'b-0' ? '198.18.1.2' : undefined),
      net: netRunner(a),
    });
    // a-0 speaks sdk-go's dialect; its connections come from loopback here.
    coordinator.knowAddresses(new Map([['127.0.0.1', 'a-0']]));
    const ws = await WsClient.open(port);
    const key = (kind: string, name: string) => `run:r:plan:p:case:c:${kind}:${name}`;
    const configure = async (id: string, rules: unknown[]) => {
      const config = { network: 'default', enable: true, default: {}, rules, callback_state: key('states', id) };
      ws.send(
        `{"id":"${id}","is_cancel":false,"publish":` +
          `${JSON.stringify({ topic: key('topics', 'network:h'), payload: config })}}`,
      );
      await ws.reply(id);
      ws.send(`{"id":"w${id}","is_cancel":false,"barrier":{"state":"${key('states', id)}","target":1}}`);
      assert.match(await ws.reply(`w${id}`), /"error":""/);
    };
    const routes = async () => spawnSync('ip', ['-n', a, 'route', 'show'], { encoding: 'utf8' }).stdout;
    await configure('1', [{ subnet: '198.18.1.2/32', filter: 1 }]);
    assert.match(await routes(), /prohibit 198\.18\.1\.2/);
    const probe = spawnSync(
      'ip',
      ['netns', 'exec', a, process.execPath, netProbe, 'connect', '198.18.1.2', '7005', '1500'],
      {
        encoding: 'utf8',
      },
    );
    const refused = JSON.parse(probe.stdout) as { ms: number; error: string };
    assert.notEqual(refused.error, 'timeout');
    assert.ok(refused.ms < 100, `refused in ${refused.ms} ms (${refused.error})`);
    await configure('2', []);
    assert.doesNotMatch(await routes(), /prohibit/);
    ws.close();
  },
);
