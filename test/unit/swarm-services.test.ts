// The instance services `tgc run --target swarm` creates through the Engine API, from the
// committed stack of examples/ping: the stack's own labels, no network, every setting kept.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { instanceServices } from '../../targets/swarm/engine-services.js';
import { repoRoot } from '../support/helpers.js';

const stackText = readFileSync(join(repoRoot, 'examples/ping/generated/swarm/stack.yaml'), 'utf8');
const configIds = new Map(['wrapper', 'sync', 'coordinator', 'agent'].map((c) => [`tgc-r1_${c}`, `id-${c}`]));

test('swarm services: one per instance, the stack labels, no network, the gate, hosts, volumes, configs', () => {
  const services = instanceServices(stackText, { stack: 'tgc-r1', env: { TGC_RUN_ID: 'r1' }, configIds });
  assert.deepEqual(
    services.map((s) => s.name),
    ['runners-0', 'runners-1'],
  );
  const spec = services[0]!.spec as any;
  assert.equal(spec.Name, 'tgc-r1_runners-0');
  assert.equal(spec.Labels['com.docker.stack.namespace'], 'tgc-r1');
  assert.equal(spec.Networks, undefined);
  assert.equal(spec.TaskTemplate.Networks, undefined);
  const c = spec.TaskTemplate.ContainerSpec;
  assert.equal(c.Image, 'tgc-example-ping:latest');
  assert.deepEqual(c.Command, ['/usr/local/lib/tgc/tgc-sync', 'exec-shaped', '--', 'node', 'examples/ping/ping.mjs']);
  assert.equal(c.Labels['dev.tgc.run'], 'r1');
  assert.equal(c.Labels['com.docker.stack.namespace'], 'tgc-r1');
  assert.ok(c.Env.includes('TGC_INSTANCE=runners-0'));
  assert.ok(c.Env.includes('TGC_RUN_ID=r1'));
  assert.ok(c.Env.includes('TGC_COORDINATOR=127.0.0.1:5050'));
  assert.deepEqual(c.Hosts, [
    '198.18.0.2 runners-0',
    '198.18.0.2 runners',
    '198.18.0.3 runners-1',
    '198.18.0.3 runners',
  ]);
  assert.deepEqual(c.Mounts, [
    {
      Type: 'volume',
      Source: 'tgc-r1_tgc-tools',
      Target: '/usr/local/lib/tgc',
      ReadOnly: true,
      VolumeOptions: { Labels: { 'com.docker.stack.namespace': 'tgc-r1' } },
    },
    {
      Type: 'volume',
      Source: 'tgc-r1_tgc-state',
      Target: '/tgc-state',
      ReadOnly: true,
      VolumeOptions: { Labels: { 'com.docker.stack.namespace': 'tgc-r1' } },
    },
    { Type: 'volume', Target: '/tgc/outputs' },
  ]);
  // The wrapper executable (0555, YAML 1.1's octal), the sync module readable.
  assert.deepEqual(c.Configs, [
    {
      File: { Name: '/usr/bin/tgc', UID: '0', GID: '0', Mode: 0o555 },
      ConfigID: 'id-wrapper',
      ConfigName: 'tgc-r1_wrapper',
    },
    {
      File: { Name: '/usr/local/lib/tgc-sync.mjs', UID: '0', GID: '0', Mode: 0o444 },
      ConfigID: 'id-sync',
      ConfigName: 'tgc-r1_sync',
    },
  ]);
  assert.deepEqual(spec.TaskTemplate.RestartPolicy, { Condition: 'none' });
  assert.deepEqual(spec.EndpointSpec, { Mode: 'dnsrr' });
});

test('swarm services: a key tgc does not write is an error, never dropped; a missing config too', () => {
  assert.throws(
    () =>
      instanceServices(
        stackText.replace('    extra_hosts: *tgc-hosts\n', '    extra_hosts: *tgc-hosts\n    privileged: true\n'),
        {
          stack: 'tgc-r1',
          env: {},
          configIds,
        },
      ),
    /service runners-0: privileged is not understood here/,
  );
  assert.throws(
    () => instanceServices(stackText, { stack: 'tgc-r1', env: {}, configIds: new Map() }),
    /the stack has no config tgc-r1_wrapper/,
  );
});
