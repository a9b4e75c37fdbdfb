// The coordinator's two dialects fuzzed (fast-check), against the bundled coordinator in its own
// process: JSON-lines frames of every request type with arbitrary fields, garbage lines and
// bytes; WebSocket messages of the sync-service dialect, the same. Property: every client that
// misbehaves is answered or closed, and the coordinator keeps serving a bystander.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { healthy, startChild } from '../support/coordinator-child.js';
import { RawClient } from '../support/raw-client.js';
import { WsClient } from '../support/ws-client.js';

const TYPES = [
  'register',
  'signal',
  'barrier',
  'publish',
  'subscribe',
  'record',
  'message',
  'outcome',
  'configure',
  'network_ready',
  'ping',
  'exited',
];

/** A frame: a known request type with arbitrary fields, or anything JSON, or not JSON at all. */
const frame = fc.oneof(
  fc
    .record({ type: fc.constantFrom(...TYPES), id: fc.oneof(fc.integer(), fc.string()) })
    .chain((base) =>
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }).map((extra) => ({
        ...extra,
        ...base,
      })),
    )
    .map((f) => JSON.stringify(f)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{"type":', '\u0000', '{"type":"register","group":"' + 'x'.repeat(5000) + '"}', '[[[[[[[[[['),
);

test('fuzz: JSON-lines frames in any order and shape; the coordinator answers and keeps serving', async (t) => {
  const child = await startChild(t, ['--instances', '3']);
  const bystander = await RawClient.open(child.port);
  await bystander.request({ type: 'register', group: 'g' });
  await fc.assert(
    fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 12 }), async (frames) => {
      // A bare socket: the first bytes choose the dialect (a line that looks like HTTP gets an
      // HTTP answer), so what comes back need not be JSON.
      const socket = connect({ port: child.port, host: '127.0.0.1' });
      let got = '';
      let closed = false;
      socket.on('data', (d: Buffer) => (got += d.toString('utf8')));
      socket.on('error', () => undefined);
      const ended = new Promise<void>((r) => socket.once('close', () => r(void (closed = true))));
      for (const f of frames) socket.write(`${f}\n`);
      // One last ping: answered unless a frame closed the connection (which it may).
      socket.write('{"type":"ping","id":424242}\n');
      const deadline = Date.now() + 5000;
      while (!closed && !got.includes('"re":424242') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      assert.ok(closed || got.includes('"re":424242'), `neither answered nor closed: ${got.slice(0, 300)}`);
      socket.destroy();
      await ended;
      assert.ok('re' in (await bystander.request({ type: 'ping' })));
    }),
    { numRuns: 150, seed: 20261203 },
  );
  await healthy(child.port);
  bystander.close();
});

test('fuzz: sync-service WebSocket messages of any shape; the coordinator keeps serving', async (t) => {
  const child = await startChild(t, ['--instances', '3']);
  const bystander = await RawClient.open(child.port);
  const ws = fc.oneof(
    fc
      .record({
        id: fc.string({ maxLength: 8 }),
        signal_entry: fc.option(fc.record({ state: fc.string({ maxLength: 20 }) })),
        barrier: fc.option(fc.record({ state: fc.string({ maxLength: 20 }), target: fc.integer() })),
        publish: fc.option(fc.record({ topic: fc.string({ maxLength: 20 }), payload: fc.jsonValue({ maxDepth: 2 }) })),
        subscribe: fc.option(fc.record({ topic: fc.string({ maxLength: 20 }) })),
      })
      .map((r) => JSON.stringify(r)),
    frame,
  );
  await fc.assert(
    fc.asyncProperty(fc.array(ws, { minLength: 1, maxLength: 8 }), async (messages) => {
      const c = await WsClient.open(child.port);
      for (const m of messages) c.send(m);
      await new Promise((r) => setTimeout(r, 20));
      c.ws.terminate();
      assert.ok('re' in (await bystander.request({ type: 'ping' })));
    }),
    { numRuns: 100, seed: 20261203 },
  );
  await healthy(child.port);
  bystander.close();
});
