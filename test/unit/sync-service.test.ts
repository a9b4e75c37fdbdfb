// The coordinator as Testground's sync service: sdk-go's frames over a WebSocket, against a real
// coordinator, next to tgc's own clients.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coordinator, type CoordinatorOptions } from '../../runtime/coordinator/coordinator.js';
import { connect } from '../../sdk/index.js';
import { RawClient } from '../support/raw-client.js';
import { WsClient } from '../support/ws-client.js';

const P = 'run:r1:plan:p:case:c';
const state = (n: string) => `${P}:states:${n}`;
const topic = (n: string) => `${P}:topics:${n}`;
/** A request as sdk-go writes it: id, is_cancel, the request, then a newline. */
const req = (id: string, kind: string, body: unknown) =>
  `{"id":"${id}","is_cancel":false,"${kind}":${JSON.stringify(body)}}\n`;
const ok = (id: string, extra: Partial<Record<'publish' | 'subscribe' | 'signal_entry', string>> = {}) =>
  `{"id":"${id}","error":"","publish":${extra.publish ?? 'null'},"subscribe":${extra.subscribe ?? '""'},` +
  `"signal_entry":${extra.signal_entry ?? 'null'}}\n`;

async function start(t: { after: (fn: () => unknown) => void }, o: CoordinatorOptions) {
  const c = new Coordinator(o);
  const port = await c.listen(0);
  t.after(() => c.close());
  return { c, port };
}

test('every request kind, answered byte for byte as sync-service answers it', async (t) => {
  const { port } = await start(t, { instances: 1 });
  const ws = await WsClient.open(port, '/any/path');
  ws.send(req('0', 'signal_entry', { state: state('ready') }));
  assert.equal(await ws.reply('0'), ok('0', { signal_entry: '{"seq":1}' }));
  ws.send(req('1', 'publish', { topic: topic('t'), payload: { a: 1, b: [true, null] } }));
  assert.equal(await ws.reply('1'), ok('1', { publish: '{"seq":1}' }));
  ws.send(req('2', 'publish', { topic: topic('t'), payload: 'two' }));
  assert.equal(await ws.reply('2'), ok('2', { publish: '{"seq":2}' }));
  // A subscription replays from the first message; each payload as JSON text.
  ws.send(req('3', 'subscribe', { topic: topic('t') }));
  await ws.waitFor((r) => r.id === '3' && r.subscribe === '"two"');
  assert.deepEqual(
    ws.texts.filter((x) => x.startsWith('{"id":"3"')),
    [
      ok('3', { subscribe: JSON.stringify('{"a":1,"b":[true,null]}') }),
      ok('3', { subscribe: JSON.stringify('"two"') }),
    ],
  );
  ws.send(req('4', 'barrier', { state: state('ready'), target: 1 }));
  assert.equal(await ws.reply('4'), ok('4'));
  // A barrier not yet reached is answered when it is.
  ws.send(req('5', 'barrier', { state: state('ready'), target: 2 }));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ws.texts.filter((x) => x.startsWith('{"id":"5"')).length, 0);
  ws.send(req('6', 'signal_entry', { state: state('ready') }));
  assert.equal(await ws.reply('5'), ok('5'));
  // is_cancel ends a subscription: later messages are not sent to it.
  ws.send('{"id":"3","is_cancel":true}\n');
  ws.send(req('7', 'publish', { topic: topic('t'), payload: 3 }));
  await ws.reply('7');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ws.texts.filter((x) => x.startsWith('{"id":"3"')).length, 2);
  ws.close();
});

test('an sdk-go instance and a TypeScript SDK instance share states and topics', async (t) => {
  const { port } = await start(t, { instances: 2, groups: { ts: 1, go: 1 } });
  const ts = await connect({ coordinator: `127.0.0.1:${port}`, group: 'ts', env: {} });
  const ws = await WsClient.open(port);
  ws.send(
    req('0', 'publish', { topic: `${P}:run_events`, payload: { stage_start_event: { name: 'x', group: 'go' } } }),
  );
  await ws.reply('0');
  // Go signals `ready`: the TypeScript barrier on `ready` counts it, and the other way round.
  const tsBarrier = ts.sync.barrier('ready', 2);
  ws.send(req('1', 'signal_entry', { state: state('ready') }));
  assert.equal(await ws.reply('1'), ok('1', { signal_entry: '{"seq":1}' }));
  ws.send(req('2', 'barrier', { state: state('ready'), target: 2 }));
  assert.equal(await ts.sync.signal('ready'), 2);
  await tsBarrier;
  assert.equal(await ws.reply('2'), ok('2'));
  // Topics: each sees what the other published, in order.
  ws.send(req('3', 'subscribe', { topic: topic('peers') }));
  const { subscription } = await ts.sync.publishSubscribe<{ who: string }>('peers', { who: 'ts' });
  ws.send(req('4', 'publish', { topic: topic('peers'), payload: { who: 'go' } }));
  assert.deepEqual(
    (await subscription.take(2)).map((m) => m.who),
    ['ts', 'go'],
  );
  await ws.waitFor((r) => r.id === '3' && r.subscribe === '{"who":"go"}');
  assert.equal(ws.responses.find((r) => r.id === '3')!.subscribe, '{"who":"ts"}');
  await ts.success();
  ws.send(req('5', 'publish', { topic: `${P}:run_events`, payload: { success_event: { group: 'go' } } }));
  await ws.reply('5');
  await ts.close();
  ws.close();
});

test('run events: identity by group and order, messages, stages, and outcomes with their reasons', async (t) => {
  const { c, port } = await start(t, { instances: 4, groups: { g: 4 } });
  const clients = await Promise.all([0, 1, 2, 3].map(() => WsClient.open(port)));
  const event = async (ws: WsClient, id: string, payload: unknown) => {
    ws.send(req(id, 'publish', { topic: `${P}:run_events`, payload }));
    await ws.reply(id);
  };
  for (const [i, ws] of clients.entries()) {
    await event(ws, '0', { stage_start_event: { name: 'network-initialized', group: 'g' } });
    await event(ws, '1', { message_event: { message: `hello from ${i}` } });
  }
  await event(clients[0]!, '2', { success_event: { group: 'g' } });
  await event(clients[1]!, '2', { crash_event: { group: 'g', error: 'boom', stacktrace: 'goroutine 1\nmain.go:3' } });
  const results = await c.ended;
  const byName = Object.fromEntries(results.instances.map((i) => [i.name, i]));
  assert.deepEqual(Object.keys(byName), ['g-0', 'g-1', 'g-2', 'g-3']);
  assert.equal(byName['g-0']!.outcome, 'success');
  assert.deepEqual(byName['g-2']!.messages, ['hello from 2']);
  assert.equal(byName['g-1']!.outcome, 'crash');
  assert.equal(byName['g-1']!.reason, 'boom\ngoroutine 1\nmain.go:3');
  assert.equal(results.reason, 'g-1 crashed: boom\ngoroutine 1\nmain.go:3');
  assert.ok(
    results.timeline.some((e) => e.event === 'stage' && e.instance === 'g-3' && e.stage === 'network-initialized'),
  );
  for (const ws of clients) ws.close();
});

test('a failure event keeps its error; a client that goes away without an outcome crashed', async (t) => {
  const first = await start(t, { instances: 1 });
  const ws = await WsClient.open(first.port);
  ws.send(req('0', 'publish', { topic: `${P}:run_events`, payload: { failure_event: { group: 'g', error: 'bad' } } }));
  const r1 = await first.c.ended;
  assert.equal(r1.instances[0]!.reason, 'bad');
  assert.equal(r1.reason, 'g-0 failed: bad');
  const second = await start(t, { instances: 1 });
  const quitter = await WsClient.open(second.port);
  quitter.send(
    req('0', 'publish', { topic: `${P}:run_events`, payload: { stage_start_event: { name: 's', group: 'g' } } }),
  );
  await quitter.reply('0');
  quitter.close();
  const r2 = await second.c.ended;
  assert.equal(r2.instances[0]!.outcome, 'crash');
  assert.equal(r2.instances[0]!.reason, 'connection lost without an outcome');
  ws.close();
});

test('a network config on network:<hostname> goes to the instance’s agent; then its callback state', async (t) => {
  const { c, port } = await start(t, { instances: 1, agents: true });
  const agent = await RawClient.open(port);
  await agent.request({ type: 'register', role: 'agent', instance: 'g-0' });
  await agent.request({ type: 'network_ready' });
  const ws = await WsClient.open(port);
  ws.send(req('0', 'publish', { topic: `${P}:run_events`, payload: { stage_start_event: { name: 'n', group: 'g' } } }));
  await ws.reply('0');
  // network-initialized was signalled when the agent reported the network ready.
  ws.send(req('1', 'barrier', { state: state('network-initialized'), target: 1 }));
  assert.equal(await ws.reply('1'), ok('1'));
  const config = {
    network: 'default',
    IPv4: null,
    IPv6: null,
    enable: true,
    default: { latency: 100_000_000, jitter: 5_000_000, bandwidth: 1_250_000, filter: 0, loss: 2.5 },
    rules: null,
    callback_state: 'configured',
    routing_policy: '',
  };
  ws.send(req('2', 'publish', { topic: topic('network:some-host'), payload: config }));
  ws.send(req('3', 'barrier', { state: state('configured'), target: 1 }));
  const asked = await agent.waitFor((f) => f.event === 'configure');
  assert.equal(asked.instance, 'g-0');
  assert.deepEqual(asked.shape, {
    latency: '100ms',
    jitter: '5ms',
    loss: '2.5%',
    corrupt: '0%',
    corrupt_correlation: '0%',
    duplicate: '0%',
    duplicate_correlation: '0%',
    reorder: '0%',
    reorder_correlation: '0%',
    blocked: false,
    bandwidth: '10000000bit',
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!ws.texts.some((x) => x.startsWith('{"id":"3"')), 'the callback waits for the agent');
  agent.send({ type: 'configured', ref: asked.ref });
  assert.equal(await ws.reply('3'), ok('3'));
  // enable = false cuts the link.
  ws.send(
    req('4', 'publish', {
      topic: topic('network:some-host'),
      payload: { ...config, enable: false, callback_state: 'cut' },
    }),
  );
  const cut = await agent.waitFor((f) => f.event === 'configure' && f.ref !== asked.ref);
  assert.equal((cut.shape as { blocked: boolean }).blocked, true);
  assert.ok(c.status().states.configured === 1);
  ws.close();
  agent.socket.destroy();
});

test('errors: bad frames, late barriers, oversize frames, a client that never reads: the rest unharmed', async (t) => {
  const { c, port } = await start(t, { instances: 1, maxQueuedBytes: 64 * 1024 });
  const ws = await WsClient.open(port);
  ws.send('not json');
  assert.equal(
    await ws.reply(''),
    '{"id":"","error":"a frame that is not one JSON request","publish":null,"subscribe":"","signal_entry":null}\n',
  );
  ws.send('{"id":"x","is_cancel":false}\n');
  assert.match(await ws.reply('x'), /"error":"a request needs one of publish, subscribe, barrier or signal_entry"/);
  ws.send(req('y', 'barrier', { state: state('s') }));
  assert.match(await ws.reply('y'), /"error":"barrier needs a state and a target"/);
  // Still usable after all that; a key that is no Testground key is a state of that name.
  ws.send(req('z', 'signal_entry', { state: 'plain' }));
  assert.equal(await ws.reply('z'), ok('z', { signal_entry: '{"seq":1}' }));
  assert.equal(c.status().states.plain, 1);

  // Oversize: the connection is closed (1009), others go on.
  const big = await WsClient.open(port);
  big.send(req('0', 'publish', { topic: topic('t'), payload: 'x'.repeat(1024 * 1024 + 10) }));
  assert.equal(await big.closed(), 1009);

  // A client that never reads is dropped once 64 KiB are queued to it.
  const slow = await WsClient.open(port);
  slow.send(req('s', 'subscribe', { topic: topic('flood') }));
  await slow.reply('s').catch(() => undefined);
  const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  for (let i = 0; i < 400; i++)
    ws.send(req(`f${i}`, 'publish', { topic: topic('flood'), payload: 'y'.repeat(32_000) }));
  await ws.reply('f399', 10_000);
  await new Promise((r) => setTimeout(r, 200));
  socket.resume();
  assert.equal(await slow.closed(), 1006, 'the slow client was dropped');
  assert.ok(slow.texts.length < 400, `it got ${slow.texts.length} of 401 frames`);
  ws.send(req('after', 'signal_entry', { state: state('alive') }));
  assert.equal(await ws.reply('after'), ok('after', { signal_entry: '{"seq":1}' }));

  // A barrier waiting when the run ends, and one asked after: "context canceled".
  ws.send(req('b1', 'barrier', { state: state('never'), target: 5 }));
  await new Promise((r) => setTimeout(r, 50));
  c.abort('stopped by the test');
  assert.match(await ws.reply('b1'), /"error":"context canceled"/);
  ws.send(req('b2', 'barrier', { state: state('never'), target: 5 }));
  assert.match(await ws.reply('b2'), /"error":"context canceled"/);
  ws.close();
  slow.close();
});

test('on_failure continue: a crash does not stop the others; the run is decided from every outcome', async (t) => {
  const { c, port } = await start(t, { instances: 3, groups: { g: 3 }, onFailure: 'continue', exitZero: 'crash' });
  const clients = await Promise.all([0, 1, 2].map(() => WsClient.open(port)));
  const event = async (ws: WsClient, id: string, payload: unknown) => {
    ws.send(req(id, 'publish', { topic: `${P}:run_events`, payload }));
    await ws.reply(id);
  };
  for (const ws of clients) await event(ws, '0', { stage_start_event: { name: 'network-initialized', group: 'g' } });
  await event(clients[0]!, '1', { crash_event: { group: 'g', error: 'boom', stacktrace: '' } });
  // The run goes on: the others still sync, and report.
  clients[1]!.send(req('2', 'signal_entry', { state: state('after-crash') }));
  assert.equal(await clients[1]!.reply('2'), ok('2', { signal_entry: '{"seq":1}' }));
  await event(clients[1]!, '3', { success_event: { group: 'g' } });
  assert.equal(c.status().state, 'running');
  // The third prints its success on stdout only, and exits 0: no run event, no success.
  c.exited('g-2', 'g', 0, null, 'noise\n{"ts":1,"event":{"success_event":{"group":"g"}}}\n');
  const results = await c.ended;
  assert.deepEqual(
    results.instances.map((i) => [i.name, i.outcome, i.reason]),
    [
      ['g-0', 'crash', 'boom'],
      ['g-1', 'success', null],
      ['g-2', 'failure', 'printed success_event on stdout but sent no run event'],
    ],
  );
  assert.equal(results.outcome, 'failure');
  assert.equal(results.reason, '2 of 3 did not succeed; first: g-0 crashed: boom');
  for (const ws of clients) ws.close();
});

test('an sdk-go client known by its address that never reports times out as connected', async (t) => {
  const { c, port } = await start(t, { instances: 2, groups: { g: 2 }, timeoutMs: 500 });
  c.knowAddresses(new Map([['127.0.0.1', 'g-1']]));
  const ws = await WsClient.open(port);
  // A plan without an init context: no run event, only a state.
  ws.send(req('0', 'signal_entry', { state: state('started') }));
  await ws.reply('0');
  assert.equal(c.status().registered, 1);
  const results = await c.ended;
  assert.deepEqual(
    results.instances.map((i) => [i.name, i.outcome, i.reason]),
    [['g-1', 'timeout', 'connected, no outcome']],
  );
  assert.match(results.reason!, /1 timed out, 1 never registered/);
  ws.close();
});

/** A coordinator with one sdk-go instance (g-0, 198.18.0.2) whose agent is `agent`; `others`' agents register too. */
async function configurable(t: Parameters<typeof start>[0], others: Record<string, string> = {}) {
  const { c, port } = await start(t, { instances: 1, agents: true });
  const agent = await RawClient.open(port);
  await agent.request({ type: 'register', role: 'agent', instance: 'g-0', data_ip: '198.18.0.2' });
  for (const [name, ip] of Object.entries(others)) {
    const other = await RawClient.open(port);
    await other.request({ type: 'register', role: 'agent', instance: name, data_ip: ip });
  }
  const ws = await WsClient.open(port);
  ws.send(req('0', 'publish', { topic: `${P}:run_events`, payload: { stage_start_event: { name: 'n', group: 'g' } } }));
  await ws.reply('0');
  return { c, agent, ws };
}

test('IPv4: the agent moves the instance, then the shape is applied and the callback state signalled', async (t) => {
  const { c, agent, ws } = await configurable(t);
  const config = { network: 'default', enable: true, default: {}, callback_state: 'moved', IPv4: '198.18.7.1/12' };
  ws.send(req('1', 'publish', { topic: topic('network:h'), payload: config }));
  ws.send(req('2', 'barrier', { state: state('moved'), target: 1 }));
  const move = await agent.waitFor((f) => f.event === 'address');
  assert.deepEqual([move.instance, move.ip, move.prefix], ['g-0', '198.18.7.1', 12]);
  agent.send({ type: 'configured', ref: move.ref });
  const shape = await agent.waitFor((f) => f.event === 'configure');
  agent.send({ type: 'configured', ref: shape.ref });
  assert.equal(await ws.reply('2'), ok('2'));
  ws.send(req('3', 'publish', { topic: `${P}:run_events`, payload: { success_event: { group: 'g' } } }));
  const results = await c.ended;
  assert.equal(results.instances[0]!.data_ip, '198.18.7.1');
  ws.close();
  agent.socket.destroy();
});

test('IPv4 refused: by the agent (its reason), or taken by another instance; IPv6 refused', async (t) => {
  for (const [value, reason, agentSays] of [
    [
      '198.19.0.9/16',
      /changing the data address to 198\.19\.0\.9\/16: 198\.19\.0\.9 is outside the data network/,
      true,
    ],
    ['198.18.0.3/16', /198\.18\.0\.3 is the data address of g-1/, false],
    ['198.18.0.300/16', /IPv4 "198\.18\.0\.300\/16" is not an IPv4 address/, false],
  ] as const) {
    const { c, agent, ws } = await configurable(t, { 'g-1': '198.18.0.3' });
    // Its own address, asked for again, is no change.
    const base = { network: 'default', enable: true, default: {}, callback_state: 'same', IPv4: '198.18.0.2/16' };
    ws.send(req('1', 'publish', { topic: topic('network:h'), payload: base }));
    const asked = await agent.waitFor((f) => f.event === 'configure');
    agent.send({ type: 'configured', ref: asked.ref });
    ws.send(req('2', 'publish', { topic: topic('network:h'), payload: { ...base, IPv4: value } }));
    if (agentSays) {
      const move = await agent.waitFor((f) => f.event === 'address');
      agent.send({ type: 'configured', ref: move.ref, error: `${move.ip} is outside the data network 198.18.0.0/16` });
    }
    const results = await c.ended;
    const g0 = results.instances.find((i) => i.name === 'g-0')!;
    assert.equal(g0.outcome, 'failure');
    assert.match(g0.reason!, reason);
    assert.match(g0.messages.join('\n'), /^tgc: network\.Config refused: /m);
    assert.equal(g0.data_ip, '198.18.0.2');
    ws.close();
    agent.socket.destroy();
  }
  const { c, agent, ws } = await configurable(t);
  const v6 = { network: 'default', enable: true, default: {}, callback_state: 's', IPv6: 'fd00::2/64' };
  ws.send(req('1', 'publish', { topic: topic('network:h'), payload: v6 }));
  const results = await c.ended;
  assert.match(results.instances[0]!.reason!, /IPv6 \(fd00::2\/64\) is not supported/);
  ws.close();
  agent.socket.destroy();
});
