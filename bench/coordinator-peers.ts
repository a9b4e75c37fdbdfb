// The bare clients and servers bench/coordinator drives: NDJSON and RESP3 clients, the tgc
// coordinator and redis-server as child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Below the ephemeral port range (32768–60999), so no client connection can be holding it.
export const REDIS_PORT = 26379;

// ── Bare clients ──────────────────────────────────────────────────────────────────────────────────

/** Opens `n` sockets to host:port in batches (the listen backlog is smaller than 10,000). */
export async function openMany(n: number, port: number): Promise<Socket[]> {
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
export function lines(s: Socket, onLine: (line: string) => void): void {
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
export function resp(s: Socket, onValue: (v: unknown, push: boolean) => void): void {
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

export function command(...args: (string | number)[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('');
}

// ── Servers ───────────────────────────────────────────────────────────────────────────────────────

export async function startCoordinator(
  instances: number,
): Promise<{ proc: ChildProcess; port: number; rssMb: () => number }> {
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

export async function startRedis(): Promise<ChildProcess> {
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

export function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

// ── Scenarios ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Each scenario sets its clients up once, then runs `ITERATIONS` times on the same
 * connections (a fresh state or topic each time); the first run warms up (JIT, buffers) and
 * is dropped, for both servers alike.
 */
