// examples/etcd: a real system (etcd 3.4, from Debian) as a service group, partitioned and
// healed; the checker, in shell with etcdctl and tgc sync, decides. Local target and compose.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestImage, dockerSkipReason } from '../support/docker-lab.js';
import { repoRoot, results, tgcRun } from '../support/helpers.js';
import { netSkipReason } from '../support/net-lab.js';

const noEtcd = ['etcd', 'etcdctl'].some((t) => spawnSync('which', [t]).status !== 0)
  ? 'needs etcd and etcdctl (apt-get install etcd-server etcd-client; CI installs them)'
  : undefined;

function checkRun(r: Awaited<ReturnType<typeof tgcRun>>) {
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const res = results(r.out);
  assert.deepEqual(res.instances[0].messages, [
    'majority committed, etcd-2 refused, while cut off',
    'etcd-2 caught up after the heal',
  ]);
  assert.deepEqual(
    res.services.map((s: { name: string }) => s.name),
    ['etcd-0', 'etcd-1', 'etcd-2'],
  );
  // The cut and the heal are in the timeline: etcd-2 changed its network twice.
  const changes = res.timeline.filter((e: { event: string; instance?: string }) => e.event === 'configure');
  assert.deepEqual(
    changes.map((e: { instance: string; shape: { blocked: boolean } }) => [e.instance, e.shape.blocked]),
    [
      ['etcd-2', true],
      ['etcd-2', false],
    ],
  );
}

test(
  'examples/etcd on the local target: the majority commits, etcd-2 cannot, then catches up',
  { skip: netSkipReason() ?? noEtcd, timeout: 180_000 },
  async () => {
    checkRun(await tgcRun('examples/etcd/plan.toml'));
  },
);

test('examples/etcd on compose', { skip: dockerSkipReason() ?? noEtcd, timeout: 300_000 }, async () => {
  buildTestImage('tgc-example-etcd:latest', {
    '/usr/bin/etcd': '/usr/bin/etcd',
    '/usr/bin/etcdctl': '/usr/bin/etcdctl',
    [join(repoRoot, 'examples/etcd/check.sh')]: '/app/examples/etcd/check.sh',
  });
  checkRun(await tgcRun('examples/etcd/plan.toml', ['--target', 'compose']));
});
