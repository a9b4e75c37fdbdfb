import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileText } from '../../compiler/pipeline.js';
import { nativeWireBinary } from '../../targets/local/native-wire.js';
import { UserspaceNetwork, type WireEngine } from '../../targets/local/userspace-network.js';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { connect } from '../../sdk/index.js';
import { NetLab, netSkipReason } from '../support/net-lab.js';
import { wireLab } from '../support/wire-lab.js';

const skip = netSkipReason();

const nativeSkip = nativeWireBinary() ? undefined : 'the native wire is not built (npm run build needs gcc)';
const ENGINES = [
  ['native', skip ?? nativeSkip],
  ['node', skip],
] as const satisfies readonly (readonly [WireEngine, string | undefined])[];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stddev = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

for (const [engine, engineSkip] of ENGINES) {
  test(`userspace (${engine}): 100 ms each way → median RTT 200 ms ± 3 ms`, { skip: engineSkip }, async (t) => {
    const l = await wireLab(t, engine, '[network]\nlatency = "100ms"');
    const rtts = await l.lab.ping(l.ns.a, l.ip.b, 40, 0.05);
    assert.equal(rtts.length, 40);
    const m = median(rtts);
    assert.ok(Math.abs(m - 200) <= 3, `median RTT ${m.toFixed(2)} ms`);
  });

  test(
    `userspace (${engine}): 50 ms ± 10 ms normal jitter → RTT standard deviation within 30% of √2 × 10 ms`,
    { skip: engineSkip },
    async (t) => {
      const l = await wireLab(t, engine, '[network]\nlatency = "50ms"\njitter = "10ms"\ndistribution = "normal"');
      const rtts = await l.lab.ping(l.ns.a, l.ip.b, 300, 0.015);
      assert.ok(rtts.length >= 295, `${rtts.length} replies`);
      const expected = Math.SQRT2 * 10;
      const sd = stddev(rtts);
      assert.ok(
        Math.abs(sd - expected) <= 0.3 * expected,
        `RTT stddev ${sd.toFixed(2)} ms, expected ${expected.toFixed(2)} ms`,
      );
      assert.ok(Math.abs(median(rtts) - 100) <= 5, `median ${median(rtts)}`);
    },
  );

  test(`userspace (${engine}): 10% loss → 8–12% of 2,000 packets lost`, { skip: engineSkip }, async (t) => {
    const l = await wireLab(t, engine, '[[network.links]]\nfrom = "a"\nto = "b"\nloss = "10%"');
    const sink = await l.lab.probe(l.ns.b, ['sink', 7001, 4500], true);
    await (
      await l.lab.probe(l.ns.a, ['stream', l.ip.b, 7001, 2000, 1])
    ).result;
    const { received } = (await sink.result) as { received: number };
    const lost = (2000 - received) / 2000;
    assert.ok(lost >= 0.08 && lost <= 0.12, `lost ${(lost * 100).toFixed(1)}%`);
    assert.equal((await l.net.stats()).dropped.loss, 2000 - received);
  });

  test(`userspace (${engine}): 10 Mbit/s → bulk TCP transfer within ±10%`, { skip: engineSkip }, async (t) => {
    const l = await wireLab(t, engine, '[[network.links]]\nfrom = "a"\nto = "b"\nbandwidth = "10Mbit"');
    const sink = await l.lab.probe(l.ns.b, ['tcp-sink', 7002], true);
    const bytes = 5_000_000;
    await (await l.lab.probe(l.ns.a, ['tcp-send', l.ip.b, 7002, bytes])).result.catch(() => undefined);
    const r = (await sink.result) as { bytes: number; ms: number };
    assert.equal(r.bytes, bytes);
    const mbit = (r.bytes * 8) / (r.ms / 1000) / 1e6;
    assert.ok(mbit >= 9 && mbit <= 11, `${mbit.toFixed(2)} Mbit/s`);
  });

  test(
    `userspace (${engine}): blocked a → b only: a cannot reach b, b → a still flows`,
    { skip: engineSkip },
    async (t) => {
      const l = await wireLab(t, engine, '[[network.links]]\nfrom = "a"\nto = "b"\nblocked = true');
      const sinkB = await l.lab.probe(l.ns.b, ['sink', 7003, 1500], true);
      const sinkA = await l.lab.probe(l.ns.a, ['sink', 7003, 1500], true);
      await Promise.all([
        (await l.lab.probe(l.ns.a, ['stream', l.ip.b, 7003, 100, 2])).result,
        (await l.lab.probe(l.ns.b, ['stream', l.ip.a, 7003, 100, 2])).result,
      ]);
      assert.equal(((await sinkB.result) as { received: number }).received, 0, 'a → b is cut');
      assert.equal(((await sinkA.result) as { received: number }).received, 100, 'b → a flows');
      assert.equal((await l.net.stats()).dropped.blocked, 100);
    },
  );

  test(
    `userspace (${engine}): a refused destination answers at once (ICMP prohibited); a blocked one never`,
    { skip: engineSkip },
    async (t) => {
      const l = await wireLab(t, engine, '');
      const connect = async () =>
        (await (
          await l.lab.probe(l.ns.a, ['connect', l.ip.b, 7004, 1500])
        ).result) as { ms: number; error: string };
      await l.net.links('a-0', [{ to: ['b-0'], shape: { blocked: true, refused: true } }]);
      const refused = await connect();
      assert.equal(refused.error, 'EHOSTUNREACH');
      assert.ok(refused.ms < 100, `refused in ${refused.ms} ms`);
      await l.net.links('a-0', [{ to: ['b-0'], shape: { blocked: true } }]);
      assert.equal((await connect()).error, 'timeout', 'a drop is silence');
      await l.net.links('a-0', []);
      assert.equal((await connect()).error, 'ECONNREFUSED', 'nothing listens: the peer itself answers');
    },
  );

  test(
    `userspace (${engine}): an instance moved to another address is reached there, not at the old one`,
    { skip: engineSkip },
    async (t) => {
      const l = await wireLab(t, engine, '');
      const connect = async (ip: string) =>
        (await (
          await l.lab.probe(l.ns.a, ['connect', ip, 7005, 800])
        ).result) as { error: string };
      assert.equal((await connect(l.ip.b)).error, 'ECONNREFUSED', 'b answers at its first address');
      await l.net.readdress('b-0', '198.18.7.3', 12);
      assert.equal((await connect('198.18.7.3')).error, 'ECONNREFUSED', 'b answers at its new address');
      assert.equal((await connect(l.ip.b)).error, 'timeout', 'nobody answers at the old one');
      await assert.rejects(
        l.net.readdress('b-0', '198.19.0.3'),
        /198\.19\.0\.3 is outside the data network 198\.18\.0\.0\/16/,
      );
      await assert.rejects(l.net.readdress('b-0', l.ip.a), /198\.18\.0\.2 is the data address of a-0/);
    },
  );

  test(
    `userspace (${engine}): a mid-run configure changes the measured RTT and releases the callback state`,
    { skip: engineSkip },
    async (t) => {
      const { plan } = compileText(
        'plan.toml',
        'version = 1\nname = "cfg"\n[defaults]\ncommand = ["x"]\n[network]\nlatency = "50ms"\n[[groups]]\nid = ' +
          '"a"\ninstances = 1\n[[groups]]\nid = "b"\ninstances = 1\n',
      );
      assert.ok(plan);
      const coordinator = new Coordinator({ instances: 2, agents: true });
      const port = await coordinator.listen(0);
      const lab = new NetLab();
      let net: UserspaceNetwork | undefined;
      t.after(async () => {
        await net?.close();
        await coordinator.close();
        await lab.cleanup();
        assert.deepEqual(await lab.leftovers(), [], 'nothing of the test is left');
      });
      const ns = { a: await lab.netns('a'), b: await lab.netns('b') };
      net = await UserspaceNetwork.start({
        plan,
        prefix: 16,
        engine,
        coordinator: `127.0.0.1:${port}`,
        instances: [
          { name: 'a-0', group: 'a', netns: ns.a, ip: '198.18.0.2', device: lab.device('a') },
          { name: 'b-0', group: 'b', netns: ns.b, ip: '198.18.0.3', device: lab.device('b') },
        ],
      });
      for (const p of net.processes) lab.track(p);
      // The instances (their control side, here in the test process).
      const a = await connect({ coordinator: `127.0.0.1:${port}`, group: 'a', instance: 'a-0', env: {} });
      const b = await connect({ coordinator: `127.0.0.1:${port}`, group: 'b', instance: 'b-0', env: {} });
      await Promise.all([a.network.waitReady(), b.network.waitReady()]);
      const before = median(await lab.ping(ns.a, '198.18.0.3', 30, 0.03));
      assert.ok(Math.abs(before - 100) <= 3, `RTT before: ${before}`);
      const released = b.sync.barrier('reshaped', 1);
      await a.network.configure({ latency: '20ms' }, { callbackState: 'reshaped' });
      await released;
      const after = median(await lab.ping(ns.a, '198.18.0.3', 30, 0.03));
      assert.ok(Math.abs(after - 70) <= 3, `RTT after a's egress went to 20 ms: ${after}`);
      await assert.rejects(a.network.configure({ latency: 'soon' }), { code: 'configure_failed', message: /latency/ });
      await Promise.all([a.success(), b.success()]);
      await Promise.all([a.close(), b.close()]);
    },
  );
}
