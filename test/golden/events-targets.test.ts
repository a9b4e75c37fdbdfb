// The plan's schedule on the cluster targets: carried to the coordinator (k8s: the ConfigMap;
// nomad: a template), checked by Kubernetes' schemas and HashiCorp's HCL parser; process actions,
// which tgc cannot carry out there, refused at compile time where the event is written.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { compileFile } from '../../compiler/pipeline.js';
import { repoRoot, runCli, tempDir } from '../support/helpers.js';

const partition = 'examples/partition';
const events = () => JSON.parse(JSON.stringify(compileFile(join(repoRoot, partition, 'plan.toml')).plan!.events));

test('k8s: the schedule is in the ConfigMap and the coordinator reads it (--events), schema-valid', () => {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, partition, 'generated/k8s/tgc.yaml'), 'utf8')).map(
    (d) => d.toJS() as Record<string, any>,
  );
  const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
  new ConfigMap(configMap).validate();
  assert.deepEqual(JSON.parse(configMap.data['events.json']), events());
  const coordinator = docs.find((d) => d.kind === 'Job' && d.metadata.name.endsWith('-coordinator'))!;
  new Job(coordinator).validate();
  const command: string[] = coordinator.spec.template.spec.containers[0].command;
  assert.equal(command[command.indexOf('--events') + 1], '/tgc/runtime/events.json');
  assert.ok(coordinator.spec.template.spec.containers[0].volumeMounts.some((m: any) => m.mountPath === '/tgc/runtime'));
});

test('nomad: the schedule is a template of the coordinator task, which reads it (--events), HCL-valid', async () => {
  const text = readFileSync(join(repoRoot, partition, 'generated/nomad/partition.nomad.hcl'), 'utf8');
  const parsed = (await parseHcl('partition.nomad.hcl', text)) as Record<string, any>;
  const task = parsed.job['tgc-partition'][0].group.coordinator[0].task.coordinator[0];
  const template = task.template.find((t: any) => t.destination === 'local/events.json');
  assert.ok(template, 'a template writes local/events.json');
  assert.deepEqual(JSON.parse(template.data), events());
  const entrypoint: string[] = task.config[0].entrypoint;
  assert.equal(entrypoint[entrypoint.indexOf('--events') + 1], 'local/events.json');
});

test('k8s and nomad refuse process actions at tgc compile, at the event, with the reason', async () => {
  const file = join(tempDir('tgc-plan-'), 'plan.toml');
  writeFileSync(
    file,
    'version = 1\nname = "faults"\n[defaults]\nimage = "app:1"\n[[groups]]\nid = "db"\nrole = "service"\n' +
      'instances = 2\n[[groups]]\nid = "t"\ninstances = 1\n' +
      '[[events]]\nat = "1s"\npartition = [["db-0"], ["db-1"]]\n' +
      '[[events]]\nname = "boom"\nat = "2s"\nkill = "db-1"\n',
  );
  for (const target of ['k8s', 'nomad']) {
    const r = await runCli(['compile', file, '--target', target, '-o', join(tempDir(), 'out')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `plan\\.toml:18:8: error\\[TARGET_UNSUPPORTED\\]: event "boom" would kill a process, ` +
          `which the ${target} target cannot do`,
      ),
    );
  }
  // Compose can: it compiles, with the schedule beside the coordinator.
  const out = join(tempDir(), 'compose');
  assert.equal((await runCli(['compile', file, '--target', 'compose', '-o', out])).code, 0);
  assert.equal(JSON.parse(readFileSync(join(out, 'tgc/events.json'), 'utf8')).length, 2);
});
