// tgc's own `compose up` for the files it writes (targets/compose/engine-spec.ts), and the
// coordinator's PROXY line, by which compose's host agent relays instances' connections.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineSpec, interpolate } from '../../targets/compose/engine-spec.js';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { repoRoot } from '../support/helpers.js';

test('interpolate: ${VAR}, ${VAR:-default}, ${VAR-default} and $$ as compose reads them', () => {
  const env = { SET: 'x', EMPTY: '' };
  assert.equal(interpolate('${SET}/${UNSET}/$$HOME/$${SET}', env), 'x//$HOME/${SET}');
  assert.equal(interpolate('${SET:-d} ${EMPTY:-d} ${UNSET:-d}', env), 'x d d');
  assert.equal(interpolate('${SET-d} ${EMPTY-d} ${UNSET-d}', env), 'x  d');
  assert.equal(interpolate('${TGC_CONTROL_SUBNET:-198.19.224.0/22}', {}), '198.19.224.0/22');
});

test('engineSpec: the ping example as Engine API requests, in dependency order, with compose labels', () => {
  const dir = join(repoRoot, 'examples/ping/generated/compose');
  const spec = engineSpec(readFileSync(join(dir, 'compose.yaml'), 'utf8'), {
    project: 'tgc-r1',
    dir,
    env: { TGC_RUN_ID: 'r1', TGC_CONTROL_SUBNET: '198.19.228.0/22', TGC_OUTPUTS_DIR: '/out' },
  });
  assert.deepEqual(
    spec.networks.map((n) => [n.body.Name, n.body.IPAM]),
    [['tgc-r1_control', { Config: [{ Subnet: '198.19.228.0/22' }] }]],
  );
  assert.deepEqual(
    spec.volumes.map((v) => v.body.Name),
    ['tgc-r1_tgc-tools', 'tgc-r1_tgc-state'],
  );
  const order = spec.services.map((s) => s.service);
  assert.deepEqual(order, ['coordinator', 'agent', 'runners-0', 'runners-1']);
  const byName = new Map(spec.services.map((s) => [s.service, s]));
  const agent = byName.get('agent')!.create as any;
  assert.equal(agent.HostConfig.PidMode, 'host');
  assert.deepEqual(agent.HostConfig.CapAdd, ['NET_ADMIN', 'SYS_ADMIN']);
  assert.equal(agent.HostConfig.NetworkMode, 'tgc-r1_control');
  assert.deepEqual(agent.NetworkingConfig.EndpointsConfig['tgc-r1_control'].Aliases, ['agent']);
  assert.ok(agent.HostConfig.Binds.includes('/var/run/docker.sock:/var/run/docker.sock'));
  assert.ok(agent.HostConfig.Binds.includes(`${join(dir, 'tgc')}:/tgc:ro`));
  assert.ok(agent.Env.includes('TGC_RUN_ID=r1'));
  const runner = byName.get('runners-0')!;
  const create = runner.create as any;
  assert.equal(runner.container, 'tgc-r1_runners-0_1');
  assert.deepEqual(runner.dependsOn, ['coordinator', 'agent']);
  assert.equal(create.HostConfig.NetworkMode, 'none');
  assert.deepEqual(create.Entrypoint.slice(0, 3), ['/usr/local/lib/tgc/tgc-sync', 'exec-shaped', '--']);
  assert.ok(create.Env.includes('TGC_COORDINATOR=127.0.0.1:5050'));
  assert.ok(create.HostConfig.Binds.includes('/out/runners-0:/tgc/outputs'));
  assert.ok(create.HostConfig.Binds.includes('tgc-r1_tgc-state:/tgc-state:ro'));
  // No networking at all (Docker's network set-up skipped), and the /etc/hosts Docker would
  // have written, extra hosts included, mounted from the deployment.
  assert.equal(create.NetworkDisabled, true);
  assert.equal(create.HostConfig.ExtraHosts, undefined);
  const hostsFile = join(dir, 'tgc', 'hosts', 'runners-0');
  assert.ok(create.HostConfig.Binds.includes(`${hostsFile}:/etc/hosts`));
  const hosts = spec.files.find((f) => f.path === hostsFile)!.content.split('\n');
  assert.ok(hosts.includes('127.0.0.1\tlocalhost'));
  assert.ok(hosts.includes('198.18.0.3\trunners-1'));
  assert.ok(hosts.includes('198.18.0.2\trunners'));
  assert.equal(spec.files.length, 2);
  assert.deepEqual(
    [
      create.Labels['com.docker.compose.project'],
      create.Labels['com.docker.compose.service'],
      create.Labels['dev.tgc.run'],
    ],
    ['tgc-r1', 'runners-0', 'r1'],
  );
  const coordinator = byName.get('coordinator')!.create as any;
  assert.deepEqual(coordinator.HostConfig.PortBindings, { '5050/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  // Nothing waits on its health: no health check (one every 200 ms cost half a core).
  assert.equal(coordinator.Healthcheck, undefined);
  assert.equal(coordinator.NetworkDisabled, undefined);
});

test('engineSpec: a key it does not run, and a dependency cycle, are errors', () => {
  const base = { project: 'p', dir: '/d', env: {} };
  assert.throws(
    () => engineSpec('services:\n  a:\n    image: x\n    privileged: true\n', base),
    /service a: the key "privileged" is not one tgc's engine runs/,
  );
  assert.throws(
    () =>
      engineSpec('services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n', base),
    /cycle/,
  );
});

/** What the coordinator answers on a raw connection that sends `bytes`. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.includes('\n')) s.destroy();
    });
    s.on('close', () => resolve(got));
  });
}

test('coordinator: a PROXY line first, then either protocol; a malformed one closes the connection', async (t) => {
  const c = new Coordinator({ instances: 1, groups: { a: 1 }, plan: 'p' });
  const port = await c.listen(0);
  t.after(() => c.close());
  const proxy = 'PROXY TCP4 198.18.0.9 127.0.0.1 0 5050\r\n';
  assert.match(await exchange(port, `${proxy}GET /healthz HTTP/1.0\r\n\r\n`), /^HTTP\/1\.[01] 200/);
  const reply = JSON.parse(await exchange(port, `${proxy}{"type":"register","id":1,"group":"a"}\n`));
  assert.equal(reply.re, 1);
  assert.equal(reply.name, 'a-0');
  assert.equal(await exchange(port, 'PROXY UNKNOWN\r\n{"type":"register","id":1}\n'), '');
  assert.equal(await exchange(port, 'PROXY TCP4 not-an-address 127.0.0.1 0 5050\r\n{}\n'), '');
});

test('engineSpec: a file with hundreds of aliases (200 instances merging their group) is read whole', () => {
  const services = Array.from({ length: 300 }, (_, i) => `  s${i}:\n    <<: *g\n    environment: *e\n`).join('');
  const spec = engineSpec(`x-g: &g\n  image: i\nx-e: &e\n  A: "1"\nservices:\n${services}`, {
    project: 'p',
    dir: '/d',
    env: {},
  });
  assert.equal(spec.services.length, 300);
  assert.deepEqual((spec.services[299]!.create as { Env: string[] }).Env, ['A=1']);
});
