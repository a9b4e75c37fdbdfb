// bench/coordinator — the tgc coordinator against Redis 7 doing the same job the Redis way.
//
// One client process (this one) drives both servers with equally bare clients (NDJSON for
// tgc, RESP3 for Redis, one connection per simulated instance), and measures:
//   1. barrier release, 1,000 clients: the last arrival → every client released;
//   2. barrier release, 10,000 clients (and the coordinator's RSS holding them);
//   3. all-to-all address exchange, 1,000 clients: everyone publishes its address → everyone
//      holds all 1,000.
// tgc: `signal` + `barrier`, `subscribe` + `publish`. Redis: SUBSCRIBE to a release channel,
// INCR a counter, and the client whose INCR reaches the target PUBLISHes the release;
// addresses over pub/sub (everyone subscribed before anyone publishes: pub/sub has no replay).
// Prints each figure (median of the rounds) and the ratio tgc / Redis. Target: ≤ 1.0 on every
// figure, and the coordinator under 300 MB RSS with 10,000 clients.
// Needs redis-server on PATH (apt-get install redis-server); run: npm run bench:coordinator.
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { fileURLToPath } from 'node:url';
import { REDIS_PORT, command, lines, openMany, resp, startCoordinator, startRedis, stop } from './coordinator-peers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

if (spawnSync('redis-server', ['--version']).status !== 0) {
  console.error('bench/coordinator needs redis-server on PATH: apt-get install redis-server');
  process.exit(3);
}
if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);

const ITERATIONS = 11;

type Progress = (cond: () => boolean) => Promise<void>;

function progress(): { until: Progress; tick: () => void } {
  let check = () => {};
  return {
    until: (cond) => new Promise<void>((resolve) => (check = () => cond() && resolve())),
    tick: () => check(),
  };
}

function elapsedMs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** tgc barrier: everyone registered; n-1 signalled and waiting; time the last arrival. */
async function tgcBarrier(n: number): Promise<{ times: number[]; rssMb: number }> {
  const coord = await startCoordinator(n);
  const sockets = await openMany(n, coord.port);
  const p = progress();
  let registered = 0;
  let signalled = 0;
  let released = 0;
  for (const s of sockets) {
    lines(s, (line) => {
      const f = JSON.parse(line) as { re?: number };
      if (f.re === 1) registered++;
      else if (f.re === 2) signalled++;
      else if (f.re === 3) released++;
      p.tick();
    });
  }
  let wait = p.until(() => registered === n);
  for (const s of sockets) s.write('{"type":"register","id":1,"group":"g"}\n');
  await wait;
  const times: number[] = [];
  let rssMb = 0;
  for (let k = 0; k < ITERATIONS; k++) {
    const arrive =
      `{"type":"signal","id":2,"state":"b${k}"}\n` + `{"type":"barrier","id":3,"state":"b${k}","target":${n}}\n`;
    signalled = 0;
    released = 0;
    wait = p.until(() => signalled === n - 1);
    for (const s of sockets.slice(0, -1)) s.write(arrive);
    await wait;
    rssMb = Math.max(rssMb, coord.rssMb());
    wait = p.until(() => released === n);
    const t0 = process.hrtime.bigint();
    sockets[n - 1]!.write(arrive);
    await wait;
    times.push(elapsedMs(t0));
  }
  for (const s of sockets) s.destroy();
  await stop(coord.proc);
  return { times, rssMb };
}

/**
 * The same barrier over the sync service dialect (WebSocket, sdk-go's frames): signal_entry,
 * then barrier; time the last arrival → every client released.
 */
async function wsBarrier(n: number): Promise<{ times: number[] }> {
  const coord = await startCoordinator(n);
  const clients = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${coord.port}/`);
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  const p = progress();
  let signalled = 0;
  let released = 0;
  for (const ws of clients) {
    ws.on('message', (data) => {
      const r = JSON.parse(String(data)) as { id: string };
      if (r.id === '0') signalled++;
      else if (r.id === '1') released++;
      p.tick();
    });
  }
  const times: number[] = [];
  for (let k = 0; k < ITERATIONS; k++) {
    const key = `run:r:plan:p:case:c:states:b${k}`;
    const signal = `{"id":"0","is_cancel":false,"signal_entry":{"state":"${key}"}}\n`;
    const barrier = `{"id":"1","is_cancel":false,"barrier":{"state":"${key}","target":${n}}}\n`;
    signalled = 0;
    released = 0;
    let wait = p.until(() => signalled === n - 1);
    for (const ws of clients.slice(0, -1)) {
      ws.send(signal);
      ws.send(barrier);
    }
    await wait;
    wait = p.until(() => released === n);
    const t0 = process.hrtime.bigint();
    clients[n - 1]!.send(signal);
    clients[n - 1]!.send(barrier);
    await wait;
    times.push(elapsedMs(t0));
  }
  for (const ws of clients) ws.terminate();
  await stop(coord.proc);
  return { times };
}

/** Redis barrier: SUBSCRIBE the release channel, INCR; whoever reaches n PUBLISHes. */
async function redisBarrier(n: number): Promise<{ times: number[] }> {
  const sockets = await openMany(n, REDIS_PORT);
  const run = `barrier:${process.hrtime.bigint()}`;
  const p = progress();
  let subscribed = 0;
  let counted = 0;
  let released = 0;
  let k = 0;
  /** Which sockets have an INCR reply coming (the next integer reply on them). */
  const awaitingIncr = new Array<boolean>(n).fill(false);
  sockets.forEach((s, i) => {
    resp(s, (v, push) => {
      if (push) {
        const kind = (v as string[])[0];
        if (kind === 'subscribe') subscribed++;
        else if (kind === 'message') released++;
      } else if (typeof v === 'number' && awaitingIncr[i]) {
        awaitingIncr[i] = false;
        counted++;
        if (v === n) s.write(command('PUBLISH', `${run}:${k}:go`, 'go'));
      }
      p.tick();
    });
  });
  const times: number[] = [];
  for (k = 0; k < ITERATIONS; k++) {
    subscribed = 0;
    counted = 0;
    released = 0;
    let wait = p.until(() => subscribed === n);
    for (const s of sockets) s.write((k === 0 ? command('HELLO', 3) : '') + command('SUBSCRIBE', `${run}:${k}:go`));
    await wait;
    wait = p.until(() => counted === n - 1);
    sockets.slice(0, -1).forEach((s, i) => {
      awaitingIncr[i] = true;
      s.write(command('INCR', `${run}:${k}`));
    });
    await wait;
    wait = p.until(() => released === n);
    const t0 = process.hrtime.bigint();
    awaitingIncr[n - 1] = true;
    sockets[n - 1]!.write(command('INCR', `${run}:${k}`));
    await wait;
    times.push(elapsedMs(t0));
  }
  for (const s of sockets) s.destroy();
  return { times };
}

/** tgc all-to-all: everyone subscribed; everyone publishes; until everyone holds n messages. */
async function tgcExchange(n: number): Promise<{ times: number[] }> {
  const coord = await startCoordinator(n);
  const sockets = await openMany(n, coord.port);
  const p = progress();
  let registered = 0;
  let subscribed = 0;
  let complete = 0;
  const got = new Array<number>(n).fill(0);
  sockets.forEach((s, i) => {
    lines(s, (line) => {
      const f = JSON.parse(line) as { re?: number; event?: string };
      if (f.event === 'message') {
        if (++got[i]! === n) complete++;
      } else if (f.re === 1) registered++;
      else if (f.re === 2) subscribed++;
      p.tick();
    });
  });
  let wait = p.until(() => registered === n);
  for (const s of sockets) s.write('{"type":"register","id":1,"group":"g"}\n');
  await wait;
  const times: number[] = [];
  for (let k = 0; k < ITERATIONS; k++) {
    subscribed = 0;
    complete = 0;
    got.fill(0);
    wait = p.until(() => subscribed === n);
    for (const s of sockets) s.write(`{"type":"subscribe","id":2,"topic":"addrs${k}"}\n`);
    await wait;
    wait = p.until(() => complete === n);
    const t0 = process.hrtime.bigint();
    sockets.forEach((s, i) =>
      s.write(
        `{"type":"publish","id":3,"topic":"addrs${k}","payload":{"ip":"198.18.${i >> 8}.${i & 255}","port":4001}}\n`,
      ),
    );
    await wait;
    times.push(elapsedMs(t0));
    for (const s of sockets) s.write(`{"type":"unsubscribe","topic":"addrs${k}"}\n`);
  }
  for (const s of sockets) s.destroy();
  await stop(coord.proc);
  return { times };
}

/** Redis all-to-all: everyone SUBSCRIBEd; everyone PUBLISHes; until everyone holds n. */
async function redisExchange(n: number): Promise<{ times: number[] }> {
  const sockets = await openMany(n, REDIS_PORT);
  const run = `addrs:${process.hrtime.bigint()}`;
  const p = progress();
  let subscribed = 0;
  let complete = 0;
  const got = new Array<number>(n).fill(0);
  sockets.forEach((s, i) => {
    resp(s, (v, push) => {
      if (push && (v as string[])[0] === 'message') {
        if (++got[i]! === n) complete++;
      } else if (push && (v as string[])[0] === 'subscribe') subscribed++;
      p.tick();
    });
  });
  const times: number[] = [];
  for (let k = 0; k < ITERATIONS; k++) {
    subscribed = 0;
    complete = 0;
    got.fill(0);
    let wait = p.until(() => subscribed === n);
    for (const s of sockets)
      s.write((k === 0 ? command('HELLO', 3) : command('UNSUBSCRIBE')) + command('SUBSCRIBE', `${run}:${k}`));
    await wait;
    wait = p.until(() => complete === n);
    const t0 = process.hrtime.bigint();
    sockets.forEach((s, i) =>
      s.write(command('PUBLISH', `${run}:${k}`, JSON.stringify({ ip: `198.18.${i >> 8}.${i & 255}`, port: 4001 }))),
    );
    await wait;
    times.push(elapsedMs(t0));
  }
  for (const s of sockets) s.destroy();
  return { times };
}

// ── Run ───────────────────────────────────────────────────────────────────────────────────────────

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const redis = await startRedis();
try {
  const rows: { label: string; tgc: number; redis: number; target: number }[] = [];
  let rss10k = 0;
  for (const [label, tgcRun, redisRun, target] of [
    ['barrier release, 1,000 clients', () => tgcBarrier(1000), () => redisBarrier(1000), 1.0],
    ['barrier release, 10,000 clients', () => tgcBarrier(10_000), () => redisBarrier(10_000), 1.0],
    ['all-to-all exchange, 1,000 clients', () => tgcExchange(1000), () => redisExchange(1000), 1.0],
    // sdk-go's dialect: JSON in WebSocket frames costs more than bare lines; its target is 1.2.
    ['barrier, 1,000 WebSocket clients', () => wsBarrier(1000), () => redisBarrier(1000), 1.2],
  ] as const) {
    const t: number[] = [];
    const r: number[] = [];
    // Alternate the two so that drift in the machine's state hits both alike.
    for (let i = 0; i < ROUNDS; i++) {
      const a = await tgcRun();
      t.push(...a.times.slice(1));
      if (label.includes('10,000')) rss10k = Math.max(rss10k, (a as { rssMb?: number }).rssMb ?? 0);
      r.push(...(await redisRun()).times.slice(1));
    }
    rows.push({ label, tgc: median(t), redis: median(r), target });
  }
  console.log(
    `bench/coordinator: tgc coordinator vs Redis ` +
      `${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/)?.[1] ?? ''}, median ` +
      `of ${ROUNDS} rounds × ${ITERATIONS - 1} measured runs (after one warm-up each), one client process`,
  );
  let missed = false;
  for (const row of rows) {
    const ratio = row.tgc / row.redis;
    if (ratio > row.target) missed = true;
    const goal = `(target ≤ ${row.target.toFixed(1)})`;
    console.log(
      `${row.label.padEnd(36)} tgc ${row.tgc.toFixed(1).padStart(8)} ms   redis ` +
        `${row.redis.toFixed(1).padStart(8)} ms   ratio tgc/redis ` +
        `${ratio.toFixed(2)}${ratio <= row.target ? `  ok ${goal}` : `  MISSED ${goal}`}`,
    );
  }
  console.log(
    `coordinator RSS holding 10,000 clients: ${rss10k.toFixed(0)} ` +
      `MB${rss10k < 300 ? '  ok (target < 300 MB)' : '  MISSED (target < 300 MB)'}`,
  );
  if (rss10k >= 300) missed = true;
  process.exitCode = missed ? 1 : 0;
} finally {
  await stop(redis);
}
