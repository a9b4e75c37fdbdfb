// Abuse of the bundled coordinator in its own process (test/support/coordinator-child.ts).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { RawClient } from '../support/raw-client.js';
import { healthy, startChild, status } from '../support/coordinator-child.js';

test('malformed input gets errors; the connection and the coordinator carry on', async (t) => {
  const child = await startChild(t, ['--instances', '2']);
  const c = await RawClient.open(child.port);
  c.write('this is not json\n');
  assert.equal(((await c.waitFor((f) => f.event === 'error')).error as { code: string }).code, 'bad_json');
  c.write('[1, 2, 3]\n"a string"\n');
  await c.waitFor((f) => f.event === 'error' && (f.error as { code: string }).code === 'bad_request');
  assert.equal(((await c.request({ type: 'launch_missiles' })).error as { code: string }).code, 'unknown_type');
  assert.equal(
    ((await c.request({ type: 'publish', topic: 't', payload: 1 })).error as { code: string }).code,
    'not_registered',
  );
  assert.equal(((await c.request({ type: 'signal', state: 's' })).error as { code: string }).code, 'not_registered');
  assert.equal(((await c.request({ type: 'register' })).error as { code: string }).code, 'bad_request');
  await c.request({ type: 'register', group: 'g' });
  assert.equal(
    ((await c.request({ type: 'barrier', state: 's', target: 'lots' })).error as { code: string }).code,
    'bad_request',
  );
  assert.equal(
    ((await c.request({ type: 'record', name: 'x', value: 'NaN' })).error as { code: string }).code,
    'bad_request',
  );
  assert.equal(((await c.request({ type: 'outcome', status: 'maybe' })).error as { code: string }).code, 'bad_request');
  c.write('{"type": "ping", "id": 5}\r\n');
  await c.waitFor((f) => f.re === 5);
  c.write(Buffer.from([0xff, 0xfe, 0x00, 0x0a]));
  await c.waitFor((f) => f.event === 'error' && f !== c.frames[0]);
  assert.equal((await c.request({ type: 'signal', state: 's' })).count, 1, 'the connection still works');
  await healthy(child.port);
  c.close();
});

test('a frame over 1 MiB closes that connection only', async (t) => {
  const child = await startChild(t, ['--instances', '2']);
  const bystander = await RawClient.open(child.port);
  await bystander.request({ type: 'register', group: 'g' });
  const big = await RawClient.open(child.port);
  big.write(`{"type":"publish","topic":"t","payload":"${'x'.repeat(1024 * 1024 + 10)}"}\n`);
  assert.equal(((await big.waitFor((f) => f.event === 'error')).error as { code: string }).code, 'frame_too_large');
  await big.waitClosed();
  // Just under the limit is fine.
  await bystander.request({ type: 'publish', topic: 't', payload: 'y'.repeat(1024 * 1024 - 100) });
  assert.equal((await bystander.request({ type: 'signal', state: 's' })).count, 1);
  await healthy(child.port);
  bystander.close();
});

test('10,000 idle connections: the coordinator keeps serving the rest', async (t) => {
  const child = await startChild(t, ['--instances', '2']);
  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const s = connect({ port: child.port, host: '127.0.0.1' });
      s.once('connect', () => resolve());
      s.once('error', reject);
      sockets.push(s);
    });
  // In batches: the kernel's listen backlog is smaller than 10,000.
  for (let i = 0; i < 10_000; i += 500) await Promise.all(Array.from({ length: 500 }, open));
  assert.equal(sockets.length, 10_000);
  // Half of them say something and then idle too.
  for (const s of sockets.slice(0, 5000)) s.write('{"type":"ping"}\n');
  const a = await RawClient.open(child.port);
  const b = await RawClient.open(child.port);
  await a.request({ type: 'register', group: 'g' });
  await b.request({ type: 'register', group: 'g' });
  b.send({ type: 'barrier', state: 'go', target: 1, id: 9 });
  await a.request({ type: 'signal', state: 'go' });
  await b.waitFor((f) => f.re === 9);
  const { connections } = await status(child.port);
  assert.ok(connections >= 5002, `connections: ${connections}`);
  assert.ok(child.rssMb() < 300, `RSS ${child.rssMb()} MB with 10,000 connections`);
  await a.request({ type: 'outcome', status: 'success' });
  await b.request({ type: 'outcome', status: 'success' });
  const code = await new Promise((resolve) => child.proc.once('exit', resolve));
  assert.equal(code, 0, 'the run succeeded and the coordinator exited 0');
});

test('subscribers that never read lag behind without growing memory; the others get everything', async (t) => {
  const child = await startChild(t, ['--instances', '12']);
  const publisher = await RawClient.open(child.port);
  await publisher.request({ type: 'register', group: 'pub' });
  const reader = await RawClient.open(child.port);
  await reader.request({ type: 'register', group: 'sub' });
  await reader.request({ type: 'subscribe', topic: 'flood' });
  const slow: RawClient[] = [];
  for (let i = 0; i < 10; i++) {
    const s = await RawClient.open(child.port);
    await s.request({ type: 'register', group: 'slow' });
    s.send({ type: 'subscribe', topic: 'flood' });
    s.socket.pause(); // stops reading
    slow.push(s);
  }
  const baseline = child.rssMb();
  // 100 MB through the topic: queues that followed the publisher would hold 10 × 100 MB.
  const payload = 'z'.repeat(64 * 1024);
  const MESSAGES = 1600;
  for (let i = 1; i <= MESSAGES; i++) {
    publisher.send({ type: 'publish', topic: 'flood', payload, id: i });
    if (i % 100 === 0) await publisher.waitFor((f) => f.re === i, 20_000);
  }
  await reader.waitFor((f) => f.event === 'message' && f.seq === MESSAGES, 30_000);
  const seqs = reader.frames.filter((f) => f.event === 'message').map((f) => f.seq);
  assert.deepEqual(
    seqs,
    Array.from({ length: MESSAGES }, (_, i) => i + 1),
    'the reading subscriber got every message in order',
  );
  const peak = child.peakRssMb();
  const after = child.rssMb();
  // The topic is kept for replay (100 MB); each slow reader adds at most ~1 MiB of queue.
  assert.ok(peak < baseline + 100 + 10 * 2 + 120, `peak RSS ${peak} MB (baseline ${baseline} MB)`);
  assert.ok(after < baseline + 100 + 120, `RSS after the flood: ${after} MB (baseline ${baseline} MB)`);
  assert.equal((await status(child.port)).connections, 12, 'nobody was dropped');
  // The slow readers start reading: they catch up, in order, with nothing lost.
  for (const s of slow) s.socket.resume();
  for (const s of slow) {
    await s.waitFor((f) => f.event === 'message' && f.seq === MESSAGES, 30_000);
    assert.deepEqual(
      s.frames.filter((f) => f.event === 'message').map((f) => f.seq),
      seqs,
    );
  }
  publisher.close();
  reader.close();
  for (const s of slow) s.close();
});

test('a client that sends requests but never reads the replies is dropped', async (t) => {
  const child = await startChild(t, ['--instances', '2']);
  const other = await RawClient.open(child.port);
  await other.request({ type: 'register', group: 'g' });
  const greedy = await RawClient.open(child.port);
  greedy.socket.pause();
  // Long ids make long replies: 1.2 M of them are ~30 MB, over the 16 MiB queue limit.
  const batch = Array.from({ length: 10_000 }, (_, i) => `{"type":"ping","id":${1e15 + i}}\n`).join('');
  for (let i = 0; i < 120 && !greedy.socket.destroyed; i++) {
    if (!greedy.socket.write(batch)) await new Promise((r) => greedy.socket.once('drain', r).once('close', r));
  }
  const deadline = Date.now() + 60_000;
  let connections = 2;
  while (Date.now() < deadline) {
    connections = (await status(child.port)).connections;
    if (connections === 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(connections, 1, 'the greedy client was dropped');
  // Garbage from parsing ~40 MB of requests comes and goes; the queue itself stops at 16 MiB.
  assert.ok(child.peakRssMb() < 400, `peak RSS ${child.peakRssMb()} MB`);
  assert.equal((await other.request({ type: 'signal', state: 's' })).count, 1);
  await healthy(child.port);
  greedy.close();
  other.close();
});
