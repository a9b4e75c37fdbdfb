// The swarm target on a real three-node Docker Swarm (test/support/swarm-lab.sh): runs across
// nodes, measured from inside; nothing left on any node.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot, results, tempDir, tgcRun } from '../support/helpers.js';
import { checkEventsRun, eventsPlan } from '../support/events-plan.js';
import { buildTestImage } from '../support/docker-lab.js';
import {
  nodeDaemon,
  startSwarmLab,
  stopSwarmLab,
  swarmLeftovers,
  swarmSkipReason,
  type SwarmLab,
} from '../support/swarm-lab.js';

const skip = swarmSkipReason();
let lab: SwarmLab;

before(() => {
  if (skip) return;
  buildTestImage('tgc-test-events:latest', {
    [join(repoRoot, 'test/clients/events-service.mjs')]: '/app/test/clients/events-service.mjs',
    [join(repoRoot, 'test/clients/events-checker.mjs')]: '/app/test/clients/events-checker.mjs',
  });
  lab = startSwarmLab([
    'tgc-runtime:0.1.0',
    'tgc-example-ping:latest',
    'tgc-examples:latest',
    'tgc-test-events:latest',
  ]);
});
after(() => {
  if (!skip) stopSwarmLab(lab);
});

/**
 * What the lost node kept (docs/targets/swarm.md): once it is back and Docker has removed the
 * stack's containers there, its volumes, by hand.
 */
function removeLostNodeLeftovers(stack: string): void {
  const env = { ...process.env, DOCKER_HOST: lab.nodes.node3 };
  const list = (args: string[]) =>
    spawnSync('docker', args, { env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const until = Date.now() + 60_000; Date.now() < until && list(['ps', '-aq']).length > 0;)
    spawnSync('sleep', ['0.5']);
  const volumes = list(['volume', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`]);
  if (volumes.length > 0) spawnSync('docker', ['volume', 'rm', '-f', ...volumes], { env });
  spawnSync('docker', ['volume', 'prune', '-f'], { env });
}

interface Placement {
  service: string;
  node: string;
  state: string;
  exit_code?: number;
}
const placement = (out: string) => JSON.parse(readFileSync(join(out, 'tasks.json'), 'utf8')) as Placement[];
const stackOf = (stderr: string) => `tgc-${/tgc: run (\S+) /.exec(stderr)![1]!}`;

/**
 * Nothing of the run on any node — no container, volume (named or anonymous), network, config or
 * service that was not there before it (`before`): the agents' helpers remove their nodes' volumes
 * a moment after the run. `counts`: which of what is left counts (a lost node keeps its own).
 */
async function nothingLeft(stack: string, before: readonly string[], counts = (_: string) => true): Promise<void> {
  let left: string[] = [];
  for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
    left = swarmLeftovers(lab, stack).filter((l) => !before.includes(l) && counts(l));
    if (left.length === 0) return;
  }
  assert.deepEqual(left, []);
}

test(
  'swarm: examples/ping across nodes — PASS, RTT 2000 ms ± 1 %, the runners on different nodes, nothing left',
  { skip, timeout: 300_000 },
  async () => {
    const before = swarmLeftovers(lab, 'tgc-');
    const r = await tgcRun(
      join(repoRoot, 'examples/ping/plan.toml'),
      ['--target', 'swarm', ...lab.nodeHostArgs],
      undefined,
      lab.env,
    );
    assert.equal(r.code, 0, r.said);
    const res = results(r.out);
    assert.equal(res.outcome, 'success');
    for (const i of res.instances) {
      const rtt = i.metrics.rtt_ms.mean as number;
      assert.ok(rtt >= 1980 && rtt <= 2020, `${i.name}: rtt ${rtt}`);
    }
    const runners = placement(r.out).filter((t) => t.service.startsWith('runners-'));
    assert.equal(runners.length, 2);
    assert.notEqual(runners[0]!.node, runners[1]!.node, JSON.stringify(runners));
    await nothingLeft(stackOf(r.stderr), before);
  },
);

test(
  'swarm: results, logs and outputs from instances on all three nodes in the run directory; report drawn',
  { skip, timeout: 300_000 },
  async () => {
    const plan = join(tempDir('tgc-plan-'), 'plan.toml');
    writeFileSync(
      plan,
      `version = 1
name = "spread"
[run]
timeout = "2m"
[network]
latency = "5ms"
[[groups]]
id = "writer"
instances = 6
image = "tgc-examples:latest"
command = ["sh", "-c", """
echo "from $TGC_INSTANCE on $(cat /etc/hostname)" > $TGC_OUTPUTS/hello.txt
mkdir -p $TGC_OUTPUTS/sub && echo deep > $TGC_OUTPUTS/sub/deep.txt
echo logged-$TGC_INSTANCE"""]
`,
    );
    const before = swarmLeftovers(lab, 'tgc-');
    const r = await tgcRun(plan, ['--target', 'swarm', ...lab.nodeHostArgs], undefined, lab.env);
    assert.equal(r.code, 0, r.said);
    assert.equal(results(r.out).outcome, 'success');
    const writers = placement(r.out).filter((t) => t.service.startsWith('writer-'));
    assert.deepEqual(
      [...new Set(writers.map((t) => t.node))].sort(),
      ['node1', 'node2', 'node3'],
      JSON.stringify(writers),
    );
    for (let i = 0; i < 6; i++) {
      assert.match(
        readFileSync(join(r.out, 'outputs', `writer-${i}`, 'hello.txt'), 'utf8'),
        new RegExp(`^from writer-${i} on `),
      );
      assert.equal(readFileSync(join(r.out, 'outputs', `writer-${i}`, 'sub', 'deep.txt'), 'utf8'), 'deep\n');
      assert.match(readFileSync(join(r.out, 'logs', `writer-${i}.log`), 'utf8'), new RegExp(`logged-writer-${i}`));
    }
    assert.ok(readFileSync(join(r.out, 'report.html'), 'utf8').length > 1000);
    await nothingLeft(stackOf(r.stderr), before);
  },
);

test(
  'swarm: the events plan across nodes — partition, link change, kill/restart and pause/resume on the nodes ' +
    'where the instances run, measured from inside',
  { skip, timeout: 300_000 },
  async () => {
    const plan = eventsPlan((f) => ['node', `/app/test/clients/${f}`], {
      defaults: 'image = "tgc-test-events:latest"',
    });
    const before = swarmLeftovers(lab, 'tgc-');
    const r = await tgcRun(plan, ['--target', 'swarm', ...lab.nodeHostArgs], undefined, lab.env);
    assert.equal(r.code, 0, r.said);
    checkEventsRun(results(r.out));
    const nodes = new Map(placement(r.out).map((t) => [t.service, t.node]));
    // The services acted on are spread over the nodes; at least one is not on the manager.
    assert.ok(
      ['srv-0', 'srv-1'].some((s) => nodes.get(s) !== 'node1'),
      JSON.stringify([...nodes]),
    );
    assert.ok(new Set(['srv-0', 'srv-1', 'checker-0'].map((s) => nodes.get(s))).size >= 2, JSON.stringify([...nodes]));
    await nothingLeft(stackOf(r.stderr), before);
  },
);

test(
  'swarm: a node lost mid-run fails the run within its deadline, naming the node and its instances',
  { skip, timeout: 300_000 },
  async () => {
    const plan = join(tempDir('tgc-plan-'), 'plan.toml');
    writeFileSync(
      plan,
      `version = 1
name = "lost"
[run]
timeout = "100s"
[[groups]]
id = "waiter"
instances = 6
image = "tgc-examples:latest"
command = ["sh", "-c", "tgc sync signal-wait up 6 && sleep 600"]
`,
    );
    let stopped = false;
    const t0 = Date.now();
    const r = await tgcRun(
      plan,
      ['--target', 'swarm', ...lab.nodeHostArgs],
      (text) => {
        if (!stopped && /registered 6\/6/.test(text)) {
          stopped = true;
          nodeDaemon(lab, 'stop-node', 3);
        }
      },
      lab.env,
    );
    try {
      assert.ok(stopped, `not all registered: exit ${r.code} after ${r.ms} ms\n${r.stderr}${r.stdout}`);
      assert.equal(r.code, 1, r.said);
      assert.ok(Date.now() - t0 < 100_000 + 60_000, 'ended within its deadline and the teardown');
      const res = results(r.out);
      assert.equal(res.outcome, 'failure');
      const lostOn = placement(r.out).filter((t) => t.node === 'node3' && t.service.startsWith('waiter-'));
      assert.ok(lostOn.length > 0, 'an instance ran on node3');
      assert.match(res.reason, /node node3 \(198\.19\.200\.13\) is down: lost with its instances/);
      for (const t of lostOn) assert.match(res.reason, new RegExp(`\\b${t.service}\\b`));
      // What tgc reaches is gone (a moment after the run, as the agents' helpers end): the stack's
      // services and the other nodes' containers.
      await nothingLeft(stackOf(r.stderr), [], (l) => !l.startsWith('node3:') && !l.includes('volume'));
    } finally {
      if (stopped) {
        nodeDaemon(lab, 'start-node', 3);
        removeLostNodeLeftovers(stackOf(r.stderr));
      }
    }
    assert.ok(existsSync(join(r.out, 'results.json')));
  },
);
