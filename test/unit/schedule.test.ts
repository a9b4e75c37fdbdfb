// The coordinator's schedule of the plan's [[events]]: triggers (after every network is ready,
// after a state's count, with a delay), the per-destination tables the shaping agents receive,
// process actions, `event:<name>` states and results.json's `events`. Against a real
// coordinator, with test doubles of the shaping agents speaking the real protocol.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import type { PlanEvent, ProcessAction } from '../../schema/ir.js';
import { connect } from '../../sdk/index.js';
import { RawClient } from '../support/raw-client.js';

const events: PlanEvent[] = [
  {
    name: 'cut',
    trigger: { state: 'written', count: 2 },
    delayMs: 100,
    action: { kind: 'partition', sides: [['a-0', 'a-1'], ['b-0']] },
  },
  {
    name: 'slow',
    trigger: { atMs: 300 },
    delayMs: 0,
    action: { kind: 'link', from: ['a-0'], to: ['b-0'], shape: { latencyMs: 200 } },
  },
  { name: 'heal', trigger: { state: 'event:cut', count: 1 }, delayMs: 400, action: { kind: 'heal' } },
  {
    name: 'kill',
    trigger: { state: 'event:heal', count: 1 },
    delayMs: 0,
    action: { kind: 'kill', instances: ['b-0'] },
  },
];

test('the schedule applies partitions, link changes, heals and process actions at their triggers', async (t) => {
  const done: [ProcessAction, readonly string[]][] = [];
  const c = new Coordinator({
    instances: 3,
    groups: { a: 2, b: 1 },
    agents: true,
    events,
    processExecutor: async (action, instances) => void done.push([action, instances]),
  });
  const port = await c.listen(0);
  t.after(() => c.close());
  const address = `127.0.0.1:${port}`;
  const agents = new Map<string, RawClient>();
  const tables = new Map<string, { links: unknown }[]>();
  for (const name of ['a-0', 'a-1', 'b-0']) {
    const agent = await RawClient.open(port);
    t.after(() => agent.close());
    await agent.request({ type: 'register', role: 'agent', instance: name });
    agents.set(name, agent);
    tables.set(name, []);
    agent.onFrame((f) => {
      if (f.event !== 'links') return;
      tables.get(name)!.push({ links: f.links });
      agent.send({ type: 'configured', ref: f.ref });
    });
  }
  const envs = await Promise.all(
    ['a-0', 'a-1', 'b-0'].map((n) => connect({ coordinator: address, group: n[0]!, instance: n, env: {} })),
  );
  for (const agent of agents.values()) await agent.request({ type: 'network_ready' });
  await envs[0]!.sync.signal('written');
  await envs[1]!.sync.signal('written');
  await envs[2]!.sync.barrier('event:heal', 1);
  await envs[2]!.sync.barrier('event:kill', 1);
  for (const env of envs) await env.success();
  const results = await c.ended;

  // The partition: each side's sources block the other side; the link change layers over it.
  const first = (name: string) => tables.get(name)![0]!;
  assert.deepEqual(first('a-1').links, [{ to: ['b-0'], shape: { blocked: true } }]);
  assert.deepEqual(first('b-0').links, [{ to: ['a-0', 'a-1'], shape: { blocked: true } }]);
  const a0 = tables.get('a-0')!.map((x) => x.links);
  assert.deepEqual(a0[0], [{ to: ['b-0'], shape: { blocked: true } }]);
  assert.deepEqual(a0[1], [{ to: ['b-0'], shape: { latencyMs: 200, blocked: true } }]);
  // The heal lifts the partition and keeps the link change.
  assert.deepEqual(a0[2], [{ to: ['b-0'], shape: { latencyMs: 200 } }]);
  assert.deepEqual(tables.get('b-0')!.at(-1)!.links, []);
  assert.deepEqual(done, [['kill', ['b-0']]]);

  // results.json's events, in the order applied, with their triggers and times.
  const byName = Object.fromEntries(results.events.map((e) => [e.name, e]));
  assert.deepEqual(
    results.events.map((e) => e.name),
    ['cut', 'slow', 'heal', 'kill'],
  );
  for (const e of results.events) assert.equal(e.result, 'applied', e.name);
  const near = (got: number, want: number, what: string) =>
    assert.ok(Math.abs(got - want) <= 200, `${what}: ${got} vs ${want}`);
  near(byName.cut!.t_ms - byName.cut!.triggered_ms, 100, 'cut: delay after its trigger');
  near(byName.slow!.t_ms - byName.slow!.triggered_ms, 300, 'slow: at after the network was ready');
  near(byName.heal!.t_ms - byName.cut!.t_ms, 400, 'heal: delay after event:cut');
  assert.deepEqual(byName.cut!.instances, ['a-0', 'a-1', 'b-0']);
  assert.deepEqual(byName.cut!.trigger, { state: 'written', count: 2 });
  assert.deepEqual(byName.slow!.trigger, { at_ms: 300 });
  const faults = results.timeline.filter((e) => e.event === 'fault').map((e) => (e as { name: string }).name);
  assert.deepEqual(faults, ['cut', 'slow', 'heal', 'kill']);
});

test('an event that cannot be applied fails the run with the reason', async (t) => {
  const c = new Coordinator({
    instances: 1,
    events: [
      { name: 'cut', trigger: { atMs: 0 }, delayMs: 0, action: { kind: 'partition', sides: [['x-0'], ['x-1']] } },
    ],
  });
  const port = await c.listen(0);
  t.after(() => c.close());
  const env = await connect({ coordinator: `127.0.0.1:${port}`, group: 'x', instance: 'x-0', env: {} });
  const results = await c.ended;
  assert.equal(results.outcome, 'failure');
  assert.match(results.reason!, /^event cut \(partition\) could not be applied: no shaping agent is connected for x-0/);
  assert.equal(results.events[0]!.result, 'failed');
  void env;
});

test('process actions go to the driver connection when no executor runs in process', async (t) => {
  const c = new Coordinator({
    instances: 1,
    events: [
      { name: 'stop-it', trigger: { state: 'go', count: 1 }, delayMs: 0, action: { kind: 'stop', instances: ['x-0'] } },
    ],
  });
  const port = await c.listen(0);
  t.after(() => c.close());
  const driver = await RawClient.open(port);
  t.after(() => driver.close());
  await driver.request({ type: 'register', role: 'driver' });
  const env = await connect({ coordinator: `127.0.0.1:${port}`, group: 'x', instance: 'x-0', env: {} });
  await env.sync.signal('go');
  const asked = await driver.waitFor((f) => f.event === 'process');
  assert.deepEqual([asked.action, asked.instances], ['stop', ['x-0']]);
  await driver.request({ type: 'process_done', ref: asked.ref });
  await env.sync.barrier('event:stop-it', 1);
  await env.success();
  assert.equal((await c.ended).events[0]!.result, 'applied');
});

test('configure with `to`: only the links to those instances change, over the plan; then the callback', async (t) => {
  const c = new Coordinator({ instances: 3, groups: { a: 1, b: 2 }, agents: true });
  const port = await c.listen(0);
  t.after(() => c.close());
  const agent = await RawClient.open(port);
  t.after(() => agent.close());
  await agent.request({ type: 'register', role: 'agent', instance: 'a-0' });
  agent.onFrame((f) => f.event === 'links' && agent.send({ type: 'configured', ref: f.ref }));
  const address = `127.0.0.1:${port}`;
  const [a0, b1] = await Promise.all([
    connect({ coordinator: address, group: 'a', instance: 'a-0', env: {} }),
    connect({ coordinator: address, group: 'b', instance: 'b-1', env: {} }),
  ]);
  const waiting = b1.sync.barrier('slowed', 1);
  await a0.network.configure({ latency: '100ms' }, { to: 'b', callbackState: 'slowed' });
  await waiting;
  const sent = await agent.waitFor((f) => f.event === 'links');
  assert.deepEqual(sent.links, [{ to: ['b-0', 'b-1'], shape: { latencyMs: 100 } }]);
  // A second change to one of them layers over the first.
  await a0.network.configure({ loss: '5%' }, { to: 'b[1]' });
  const second = await agent.waitFor((f) => f.event === 'links' && f.ref !== sent.ref);
  assert.deepEqual(second.links, [
    { to: ['b-0'], shape: { latencyMs: 100 } },
    { to: ['b-1'], shape: { latencyMs: 100, lossPct: 5 } },
  ]);
  await assert.rejects(a0.network.configure({ latency: '1ms' }, { to: 'c' }), {
    code: 'bad_request',
    message: /names no instance or group/,
  });
  await assert.rejects(a0.network.configure({ latency: 'soon' }, { to: 'b' }), { code: 'configure_failed' });
});
