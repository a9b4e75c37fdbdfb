import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Coordinator, type CoordinatorOptions } from '../../runtime/coordinator/coordinator.js';
import { connect, type RunEnv } from '../../sdk/index.js';
import { repoRoot } from '../support/helpers.js';
import { RawClient } from '../support/raw-client.js';

const execFileP = promisify(execFile);

/** A coordinator on a free loopback port, closed when the test ends. */
async function start(
  t: { after: (fn: () => unknown) => void },
  options: CoordinatorOptions,
): Promise<{ c: Coordinator; port: number; address: string }> {
  const c = new Coordinator(options);
  const port = await c.listen(0);
  t.after(() => c.close());
  return { c, port, address: `127.0.0.1:${port}` };
}

async function sdk(address: string, group: string, instance?: string): Promise<RunEnv> {
  return connect({ coordinator: address, group, ...(instance && { instance }), env: {} });
}

async function http(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

test('a Python client (standard library only) syncs with TypeScript SDK clients', async (t) => {
  const { c, address } = await start(t, { instances: 3, groups: { ts: 2, py: 1 }, plan: 'mixed' });
  const python = execFileP('python3', [join(repoRoot, 'test/clients/python_instance.py')], {
    env: { ...process.env, TGC_COORDINATOR: address, TGC_GROUP: 'py', TGC_INSTANCE: 'py-0' },
    timeout: 20_000,
  });
  const clients = await Promise.all([sdk(address, 'ts'), sdk(address, 'ts')]);
  const names = await Promise.all(
    clients.map(async (env) => {
      await env.sync.signalAndWait('ready', 3);
      const { subscription } = await env.sync.publishSubscribe<{ name: string }>('names', {
        name: env.name,
        lang: 'ts',
      });
      const got = await subscription.take(3);
      await env.success();
      return got.map((m) => m.name).sort();
    }),
  );
  const { stdout } = await python;
  const py = JSON.parse(stdout);
  assert.equal(py.identity.group, 'py');
  assert.equal(py.identity.group_seq, 1);
  assert.equal(py.identity.instances, 3);
  assert.deepEqual(py.names.map((m: { name: string }) => m.name).sort(), ['py-0', 'ts-0', 'ts-1']);
  for (const n of names) assert.deepEqual(n, ['py-0', 'ts-0', 'ts-1']);
  const results = await c.ended;
  assert.equal(results.outcome, 'success');
  assert.deepEqual(results.groups.py!.metrics.peers_seen?.sum, 3);
  await Promise.all(clients.map((e) => e.close()));
});

test('seq is unique, 1..N globally and 1..n per group, under concurrent registration', async (t) => {
  const groups = { a: 20, b: 15, c: 5 };
  const { address } = await start(t, { instances: 40, groups });
  const order = Object.entries(groups).flatMap(([g, n]) => Array.from({ length: n }, () => g));
  const envs = await Promise.all(order.map((g) => sdk(address, g)));
  assert.deepEqual(
    envs.map((e) => e.seq).sort((x, y) => x - y),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  for (const [g, n] of Object.entries(groups)) {
    const members = envs.filter((e) => e.group === g);
    assert.deepEqual(
      members.map((e) => e.groupSeq).sort((x, y) => x - y),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.ok(members.every((e) => e.groupInstances === n && e.instances === 40));
  }
  assert.equal(new Set(envs.map((e) => e.name)).size, 40);
  // One more is refused, and so is an unknown group.
  const extra = await RawClient.open(Number(address.split(':')[1]));
  assert.equal(((await extra.request({ type: 'register', group: 'a' })).error as { code: string }).code, 'run_full');
  extra.close();
  await Promise.all(envs.map((e) => e.close()));
});

test('registration errors: unknown group, full group, duplicate name', async (t) => {
  const { port } = await start(t, { instances: 3, groups: { a: 1, b: 2 } });
  const c1 = await RawClient.open(port);
  assert.equal(((await c1.request({ type: 'register', group: 'zz' })).error as { code: string }).code, 'unknown_group');
  assert.equal((await c1.request({ type: 'register', group: 'a', instance: 'x' })).name, 'x');
  assert.equal(
    ((await c1.request({ type: 'register', group: 'b' })).error as { code: string }).code,
    'already_registered',
  );
  const c2 = await RawClient.open(port);
  assert.equal(((await c2.request({ type: 'register', group: 'a' })).error as { code: string }).code, 'group_full');
  assert.equal(
    ((await c2.request({ type: 'register', group: 'b', instance: 'x' })).error as { code: string }).code,
    'duplicate_instance',
  );
  c1.close();
  c2.close();
});

test('barriers release at their target: below, at and above the arrivals', async (t) => {
  const { port } = await start(t, { instances: 4 });
  const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.open(port)));
  await Promise.all(clients.map((c) => c.request({ type: 'register', group: 'g' })));
  const [a, b, c, d] = clients as [RawClient, RawClient, RawClient, RawClient];
  assert.equal((await a.request({ type: 'signal', state: 's' })).count, 1);
  assert.equal((await b.request({ type: 'signal', state: 's' })).count, 2);
  // Below the arrivals: at once.
  assert.equal((await c.request({ type: 'barrier', state: 's', target: 1 })).count, 2);
  assert.equal((await c.request({ type: 'barrier', state: 's', target: 0 })).count, 2);
  // At: the third signal releases a waiter for 3, not one for 4.
  c.send({ type: 'barrier', state: 's', target: 3, id: 31 });
  d.send({ type: 'barrier', state: 's', target: 4, id: 41 });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(
    c.frames.find((f) => f.re === 31),
    undefined,
    'not released before its target',
  );
  assert.equal((await c.request({ type: 'signal', state: 's' })).count, 3);
  assert.equal((await c.waitFor((f) => f.re === 31)).count, 3);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(
    d.frames.find((f) => f.re === 41),
    undefined,
    'above the arrivals: still waiting',
  );
  // Above: released by the arrival that reaches it.
  await d.request({ type: 'signal', state: 's' });
  assert.equal((await d.waitFor((f) => f.re === 41)).count, 4);
  // Another state is independent.
  assert.equal((await a.request({ type: 'barrier', state: 'other', target: 0 })).count, 0);
  for (const x of clients) x.close();
});

test('late subscribers get a full replay, and every subscriber sees a topic in publish order', async (t) => {
  const { address } = await start(t, { instances: 3 });
  const [p1, p2, late] = await Promise.all([sdk(address, 'g'), sdk(address, 'g'), sdk(address, 'g')]);
  const early = p1.sync.subscribe<{ from: string; i: number }>('t');
  const N = 300;
  const seqs = await Promise.all([
    Promise.all(Array.from({ length: N }, (_, i) => p1.sync.publish('t', { from: 'p1', i }))),
    Promise.all(Array.from({ length: N }, (_, i) => p2.sync.publish('t', { from: 'p2', i }))),
  ]);
  assert.deepEqual(
    seqs.flat().sort((a, b) => a - b),
    Array.from({ length: 2 * N }, (_, i) => i + 1),
  );
  const gotEarly = await early.take(2 * N);
  const gotLate = await late.sync.subscribe<{ from: string; i: number }>('t').take(2 * N);
  assert.deepEqual(gotLate, gotEarly, 'the replay is the same sequence');
  for (const from of ['p1', 'p2']) {
    const mine = gotEarly.filter((m) => m.from === from).map((m) => m.i);
    assert.deepEqual(
      mine,
      Array.from({ length: N }, (_, i) => i),
      `${from}'s messages in the order published`,
    );
  }
  // A second local subscription on the same connection replays too, and ends with the run.
  const again = p2.sync.subscribe<{ from: string; i: number }>('t');
  assert.deepEqual(await again.take(2 * N), gotEarly);
  await Promise.all([p1, p2, late].map((e) => e.close()));
});

test('a lost connection without an outcome is a crash: the run fails within 1 s and the others get stop', async (t) => {
  const { c, port } = await start(t, { instances: 3 });
  const [ok, victim, bystander] = await Promise.all([0, 1, 2].map(() => RawClient.open(port)));
  await ok!.request({ type: 'register', group: 'g', instance: 'ok' });
  await victim!.request({ type: 'register', group: 'g', instance: 'victim' });
  await bystander!.request({ type: 'register', group: 'g', instance: 'bystander' });
  await ok!.request({ type: 'outcome', status: 'success' });
  bystander!.send({ type: 'barrier', state: 'never', target: 3, id: 7 });
  const t0 = Date.now();
  victim!.close();
  const stop = await bystander!.waitFor((f) => f.event === 'stop', 1000);
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(stop.outcome, 'failure');
  assert.match(String(stop.reason), /victim crashed/);
  assert.equal(((await bystander!.waitFor((f) => f.re === 7)).error as { code: string }).code, 'run_ended');
  const results = await c.ended;
  assert.deepEqual(Object.fromEntries(results.instances.map((i) => [i.name, i.outcome])), {
    ok: 'success',
    victim: 'crash',
    bystander: 'stopped',
  });
  ok!.close();
  bystander!.close();
});

test('a failure ends the run at once, with its reason', async (t) => {
  const { c, address } = await start(t, { instances: 2 });
  const [a, b] = await Promise.all([sdk(address, 'g'), sdk(address, 'g')]);
  const stopped = new Promise((resolve) => b.onStop(resolve));
  await a.failure('the answer was 41');
  assert.deepEqual(await stopped, { outcome: 'failure', reason: `${a.name} failed: the answer was 41` });
  const results = await c.ended;
  assert.equal(results.outcome, 'failure');
  assert.equal(results.instances.find((i) => i.name === a.name)!.reason, 'the answer was 41');
  await Promise.all([a.close(), b.close()]);
});

test('the deadline turns the rest into timeout', async (t) => {
  const { c, port } = await start(t, { instances: 3, timeoutMs: 300 });
  const [a, b] = await Promise.all([RawClient.open(port), RawClient.open(port)]);
  await a.request({ type: 'register', group: 'g', instance: 'done' });
  await b.request({ type: 'register', group: 'g', instance: 'slow' });
  await a.request({ type: 'outcome', status: 'success' });
  const results = await c.ended;
  assert.equal(results.outcome, 'failure');
  assert.match(results.reason!, /1 timed out, 1 never registered/);
  assert.deepEqual(
    results.instances.map((i) => [i.name, i.outcome]),
    [
      ['done', 'success'],
      ['slow', 'timeout'],
    ],
  );
  assert.equal((await b.waitFor((f) => f.event === 'stop')).outcome, 'failure');
  a.close();
  b.close();
});

test('HTTP on the same port: /healthz, /status, /results (409 until the end), /metrics', async (t) => {
  const { c, port, address } = await start(t, { instances: 2, groups: { runners: 2 }, plan: 'ping' });
  assert.deepEqual(await http(port, '/healthz'), { status: 200, body: 'ok\n' });
  assert.equal((await http(port, '/results')).status, 409);
  assert.equal((await http(port, '/nope')).status, 404);
  const [a, b] = await Promise.all([sdk(address, 'runners'), sdk(address, 'runners')]);
  await a.sync.signal('ready');
  a.record('rtt_ms', 2001.5, 'ms');
  b.record('rtt_ms', 1998.5, 'ms');
  b.record('label "quoted"\nnewline', 1);
  await a.sync.publish('addrs', 'x');
  const status = JSON.parse((await http(port, '/status')).body);
  assert.equal(status.state, 'running');
  assert.equal(status.registered, 2);
  // Without shaping agents each registration is also Testground's network-initialized.
  assert.deepEqual(status.states, { 'network-initialized': 2, ready: 1 });
  await a.success();
  await b.success();
  const results = await c.ended;
  const fetched = JSON.parse((await http(port, '/results')).body);
  assert.deepEqual(fetched, JSON.parse(JSON.stringify(results)));
  assert.equal(fetched.outcome, 'success');
  assert.equal(fetched.plan, 'ping');
  assert.deepEqual(fetched.groups.runners.outcomes, { success: 2 });
  assert.equal(fetched.groups.runners.metrics.rtt_ms.mean, 2000);

  // /metrics, parsed back with the exposition format's grammar.
  const text = (await http(port, '/metrics')).body;
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    const labels = [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}=${v!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')}`)
      .join(',');
    samples.set(`${m[1]}{${labels}}`, Number(m[4]));
  }
  assert.equal(samples.get('tgc_instances_expected{}'), 2);
  assert.equal(samples.get('tgc_instances_registered{group=runners}'), 2);
  assert.equal(samples.get('tgc_instance_outcomes{group=runners,outcome=success}'), 2);
  assert.equal(samples.get('tgc_recorded_sum{group=runners,name=rtt_ms,unit=ms}'), 4000);
  assert.equal(samples.get('tgc_recorded_count{group=runners,name=rtt_ms,unit=ms}'), 2);
  assert.equal(samples.get('tgc_recorded_max{group=runners,name=label "quoted"\nnewline,unit=}'), 1);
  assert.equal(samples.get('tgc_state_signals_total{state=ready}'), 1);
  assert.equal(samples.get('tgc_topic_messages_total{topic=addrs}'), 1);
  assert.equal(samples.get('tgc_run_succeeded{}'), 1);
  for (const line of text.split('\n').filter((l) => l.startsWith('# TYPE')))
    assert.match(line, /^# TYPE \w+ (gauge|counter)$/);
  await Promise.all([a.close(), b.close()]);
});

test(
  'network: waitReady waits for the agent; configure is relayed to it ' + 'and releases the callback state',
  async (t) => {
    const { c, port, address } = await start(t, { instances: 2, agents: true });
    // A test double of the shaping agent, speaking the real protocol.
    const agent = await RawClient.open(port);
    await agent.request({ type: 'register', role: 'agent', instance: 'a-0' });
    const [inst, other] = await Promise.all([sdk(address, 'a', 'a-0'), sdk(address, 'a', 'a-1')]);
    let ready = false;
    const waiting = inst.network.waitReady().then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ready, false, 'not ready before the agent says so');
    await agent.request({ type: 'network_ready' });
    await waiting;
    const readyCount = JSON.parse((await http(port, '/status')).body).states['network-ready'];
    assert.equal(readyCount, 1);

    // configure → forwarded to the agent → applied → the instance's request resolves.
    const otherWaits = other.sync.barrier('shaped', 1);
    const configured = inst.network.configure({ latency: '100ms', loss: '1%' }, { callbackState: 'shaped' });
    const forwarded = await agent.waitFor((f) => f.event === 'configure');
    assert.deepEqual(forwarded.shape, { latency: '100ms', loss: '1%' });
    assert.equal(forwarded.instance, 'a-0');
    agent.send({ type: 'configured', ref: forwarded.ref, id: 1 });
    await configured;
    await otherWaits;

    // The agent can refuse; the instance gets its reason.
    const refused = inst.network.configure({ latency: 'soon' });
    const second = await agent.waitFor((f) => f.event === 'configure' && f.ref !== forwarded.ref);
    agent.send({ type: 'configured', ref: second.ref, error: 'latency "soon" is not a duration' });
    await assert.rejects(refused, { code: 'configure_failed', message: /not a duration/ });

    // No agent for a-1: configure fails at once.
    await assert.rejects(other.network.configure({ latency: '1ms' }), { code: 'no_agent' });
    await inst.success();
    await other.success();
    assert.equal((await c.ended).outcome, 'success');
    agent.close();
    await Promise.all([inst.close(), other.close()]);
  },
);

test('without agents, waitReady resolves at once', async (t) => {
  const { address } = await start(t, { instances: 1 });
  const env = await sdk(address, 'g');
  await env.network.waitReady();
  await env.success();
  await env.close();
});
