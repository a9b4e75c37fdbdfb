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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Below the ephemeral port range (32768–60999), so no client connection can be holding it.
const REDIS_PORT = 26379;

if (spawnSync('redis-server', ['--version']).status !== 0) {
  console.error('bench/coordinator needs redis-server on PATH: apt-get install redis-server');
  process.exit(3);
}
if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);

// ── Bare clients ─────────────────────────────────────────────────────────────────────────

/** Opens `n` sockets to host:port in batches (the listen backlog is smaller than 10,000). */
async function openMany(n: number, port: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += 500) {
    const batch = Math.min(500, n - i);
    await Promise.all(
      Array.from(
        { length: batch },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect({ port, host: '127.0.0.1', noDelay: true });
            s.once('connect', () => resolve());
            s.once('error', reject);
            sockets.push(s);
          }),
      ),
    );
  }
  return sockets;
}

/** Calls `onLine` for each newline-terminated line a socket receives (bytes in, like `resp`). */
function lines(s: Socket, onLine: (line: string) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  s.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let pos = 0;
    for (let nl = buf.indexOf(10, pos); nl !== -1; nl = buf.indexOf(10, pos)) {
      onLine(buf.toString('utf8', pos, nl));
      pos = nl + 1;
    }
    buf = buf.subarray(pos);
  });
}

/**
 * A minimal RESP3 reader: yields each complete top-level value (numbers, strings, arrays,
 * maps as arrays, pushes as arrays tagged `push`).
 */
function resp(s: Socket, onValue: (v: unknown, push: boolean) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  s.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let pos = 0;
    const parse = (): { v: unknown; push: boolean } | undefined => {
      const nl = buf.indexOf('\r\n', pos);
      if (nl === -1) return undefined;
      const type = String.fromCharCode(buf[pos]!);
      const head = buf.toString('latin1', pos + 1, nl);
      const after = nl + 2;
      switch (type) {
        case '+':
        case '-':
        case ':':
        case ',':
        case '#':
        case '_':
          pos = after;
          return { v: type === ':' ? Number(head) : head, push: false };
        case '$':
        case '=':
        case '!': {
          const len = Number(head);
          if (len < 0) {
            pos = after;
            return { v: null, push: false };
          }
          if (buf.length < after + len + 2) return undefined;
          pos = after + len + 2;
          return { v: buf.toString('utf8', after, after + len), push: false };
        }
        case '*':
        case '>':
        case '~':
        case '%': {
          const count = Number(head) * (type === '%' ? 2 : 1);
          const start = pos;
          pos = after;
          const items: unknown[] = [];
          for (let i = 0; i < count; i++) {
            const item = parse();
            if (!item) {
              pos = start;
              return undefined;
            }
            items.push(item.v);
          }
          return { v: items, push: type === '>' };
        }
        default:
          throw new Error(`RESP: unexpected type ${type}`);
      }
    };
    for (;;) {
      const value = parse();
      if (!value) break;
      onValue(value.v, value.push);
    }
    buf = buf.subarray(pos);
    pos = 0;
  });
}

function command(...args: (string | number)[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('');
}

// ── Servers ──────────────────────────────────────────────────────────────────────────────

async function startCoordinator(instances: number): Promise<{ proc: ChildProcess; port: number; rssMb: () => number }> {
  const proc = spawn(
    process.execPath,
    [join(root, 'dist/runtime/coordinator.mjs'), '--instances', String(instances), '--port', '0', '--linger', '0s'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on [^:]+:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`coordinator exited ${code}: ${err}`)));
  });
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1]) / 1024;
  return { proc, port, rssMb };
}

async function startRedis(): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(REDIS_PORT),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxclients',
      '15000',
      '--protected-mode',
      'no',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port: REDIS_PORT, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

// ── Scenarios ────────────────────────────────────────────────────────────────────────────

/**
 * Each scenario sets its clients up once, then runs `ITERATIONS` times on the same
 * connections (a fresh state or topic each time); the first run warms up (JIT, buffers) and
 * is dropped, for both servers alike.
 */
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
    const arrive = `{"type":"signal","id":2,"state":"b${k}"}\n{"type":"barrier","id":3,"state":"b${k}","target":${n}}\n`;
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

// ── Run ──────────────────────────────────────────────────────────────────────────────────

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const redis = await startRedis();
try {
  const rows: { label: string; tgc: number; redis: number }[] = [];
  let rss10k = 0;
  for (const [label, tgcRun, redisRun] of [
    ['barrier release, 1,000 clients', () => tgcBarrier(1000), () => redisBarrier(1000)],
    ['barrier release, 10,000 clients', () => tgcBarrier(10_000), () => redisBarrier(10_000)],
    ['all-to-all exchange, 1,000 clients', () => tgcExchange(1000), () => redisExchange(1000)],
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
    rows.push({ label, tgc: median(t), redis: median(r) });
  }
  console.log(
    `bench/coordinator: tgc coordinator vs Redis ${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/)?.[1] ?? ''}, median of ${ROUNDS} rounds × ${ITERATIONS - 1} measured runs (after one warm-up each), one client process`,
  );
  let missed = false;
  for (const row of rows) {
    const ratio = row.tgc / row.redis;
    if (ratio > 1) missed = true;
    console.log(
      `${row.label.padEnd(36)} tgc ${row.tgc.toFixed(1).padStart(8)} ms   redis ${row.redis.toFixed(1).padStart(8)} ms   ratio tgc/redis ${ratio.toFixed(2)}${ratio <= 1 ? '  ok (target ≤ 1.0)' : '  MISSED (target ≤ 1.0)'}`,
    );
  }
  console.log(
    `coordinator RSS holding 10,000 clients: ${rss10k.toFixed(0)} MB${rss10k < 300 ? '  ok (target < 300 MB)' : '  MISSED (target < 300 MB)'}`,
  );
  if (rss10k >= 300) missed = true;
  process.exitCode = missed ? 1 : 0;
} finally {
  await stop(redis);
}
