// The mark classification on the cluster targets: chosen by default there (at most 62 groups),
// carried to every shaping container, with the capability it needs; checked by Kubernetes'
// schemas and HashiCorp's HCL parser. Elsewhere, and beyond 62 groups, classification by address.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { classification } from '../../model/egress-plan.js';
import { repoRoot } from '../support/helpers.js';

const groups = (n: number) => Array.from({ length: n }, () => ({}));

test('auto picks the mark on k8s and nomad (≤ 62 groups), the address elsewhere; an explicit choice stands', () => {
  const plan = (classify: 'auto' | 'address' | 'mark', n: number) => ({ network: { classify }, groups: groups(n) });
  assert.equal(classification(plan('auto', 6), 'k8s'), 'mark');
  assert.equal(classification(plan('auto', 6), 'nomad'), 'mark');
  assert.equal(classification(plan('auto', 63), 'k8s'), 'address');
  assert.equal(classification(plan('auto', 6), 'local'), 'address');
  assert.equal(classification(plan('auto', 6), 'compose'), 'address');
  assert.equal(classification(plan('mark', 6), 'local'), 'mark');
  assert.equal(classification(plan('address', 6), 'k8s'), 'address');
});

test('k8s: the shaping spec says mark; the shaping container has NET_ADMIN (tc, iptables, the IFB device)', () => {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, 'examples/ping/generated/k8s/tgc.yaml'), 'utf8')).map(
    (d) => d.toJS() as Record<string, any>,
  );
  const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
  new ConfigMap(configMap).validate();
  assert.equal(JSON.parse(configMap.data['shaping.json']).network.classify, 'mark');
  const job = docs.find((d) => d.kind === 'Job' && d.metadata.labels['tgc.dev/group'] === 'runners')!;
  new Job(job).validate();
  const shaping = job.spec.template.spec.containers.find((c: { name: string }) => c.name === 'shaping');
  assert.deepEqual(shaping.securityContext.capabilities.add, ['NET_ADMIN']);
});

test('nomad: the shaping task gets the mark in TGC_SHAPING, with NET_ADMIN', async () => {
  const file = join(repoRoot, 'examples/ping/generated/nomad/ping.nomad.hcl');
  const parsed = (await parseHcl(file, readFileSync(file, 'utf8'))) as Record<string, any>;
  const shaping = parsed.job['tgc-ping'][0].group.runners[0].task.shaping[0];
  assert.equal(JSON.parse(shaping.env[0].TGC_SHAPING).network.classify, 'mark');
  assert.deepEqual(shaping.config[0].cap_add, ['NET_ADMIN']);
});

test('compose (addresses known when it compiles): classified by address', () => {
  const text = readFileSync(join(repoRoot, 'test/fixtures/targets/kernel/generated/compose/compose.yaml'), 'utf8');
  const spec = /TGC_SHAPING: '(.*)'/.exec(text)?.[1] ?? /TGC_SHAPING: "(.*)"/.exec(text)?.[1];
  assert.ok(spec, 'the host agent carries TGC_SHAPING');
  assert.equal(JSON.parse(spec!.replace(/''/g, "'")).network.classify, undefined);
});
