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
  assert.equal(r.code, 0, r.said);
  const res = results(r.out);
  assert.deepEqual(res.instances[0].messages, [
    'majority committed, etcd-2 refused, while cut off',
    'etcd-2 caught up after the heal',
  ]);
  assert.deepEqual(
    res.services.map((s: { name: string }) => s.name),
    ['etcd-0', 'etcd-1', 'etcd-2'],
  );
  // The plan's cut and heal, applied when the checker asked for them.
  assert.deepEqual(
    res.events.map((e: { name: string; result: string; instances: string[] }) => [e.name, e.result, e.instances]),
    [
      ['cut', 'applied', ['etcd-0', 'etcd-1', 'etcd-2']],
      ['heal', 'applied', []],
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
