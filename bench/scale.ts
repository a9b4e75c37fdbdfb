// bench/scale — network set-up on a cluster, simulated: N instances and N shaping agents (many
// clients in this one process, as bench/coordinator does) against a real coordinator process, for
// N = 1,000 and 10,000 in one run, with the two ways the kernel agents can classify traffic:
//   - address (the baseline, today's exchange where addresses are known only at run time): every
//     agent publishes its address on tgc:data-addresses, subscribes, and reports network-ready
//     once it holds every instance's — N × N deliveries;
//   - mark (docs/network.md): every agent publishes its address and reports ready at once; it
//     needs no one else's.
// Measured: the time from the first registration until every agent's network_ready was
// answered (the coordinator's network_ready count is checked to be N), the frames and bytes the
// coordinator sent (its /metrics counters), its peak RSS. Target: at N = 10,000 the coordinator
// sends ≤ 20× the bytes it sends at N = 1,000, and stays under 1 GB RSS.
// The instances' own connections are left out: a process may hold 20,000 files here (the hard
// limit; the coordinator would need 20,000 + its own), and registering and waiting costs each
// instance the same O(1) in both modes, so the comparison is the agents'.
// Run: npm run bench:scale. SCALE_N=1000,3000 picks other sizes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMany } from './coordinator-peers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const SIZES = (process.env.SCALE_N ?? '1000,10000').split(',').map(Number);
const GROUPS = 6;
const TOPIC = 'tgc:data-addresses';

if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);

interface Figures {
  readonly ms: number;
  readonly frames: number;
  readonly bytes: number;
  readonly rssMb: number;
  /** Why the coordinator did not get every agent ready, if it did not. */
  readonly failed?: string;
}

function coordinator(
  n: number,
): Promise<{ proc: ChildProcess; port: number; rssMb: () => number; stderr: () => string }> {
  const groups = Array.from({ length: GROUPS }, (_, g) => `g${g}=${groupSize(n, g)}`).join(',');
  const proc = spawn(
    process.execPath,
    [
      join(root, 'dist/runtime/coordinator.mjs'),
      ...['--instances', String(n), '--groups', groups, '--agents'],
      ...['--port', '0', '--linger', '0s', '--timeout', '30m'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on [^:]+:(\d+)/.exec(err);
      if (m)
        resolve({
          proc,
          port: Number(m[1]),
          stderr: () => err,
          rssMb: () => {
            try {
              return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
            } catch {
              return 0; // gone
            }
          },
        });
    });
    proc.once('exit', (code) => reject(new Error(`coordinator exited ${code}: ${err}`)));
  });
}

/** Instance i is in group i mod GROUPS: the first n mod GROUPS groups have one more. */
function groupSize(n: number, g: number): number {
  return Math.floor(n / GROUPS) + (g < n % GROUPS ? 1 : 0);
}

/** Counts the newline-ended frames a socket receives, without parsing them. */
function countFrames(s: Socket, onFrames: (total: number) => void): void {
  let total = 0;
  s.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) total++;
    onFrames(total);
  });
}

async function run(n: number, mode: 'address' | 'mark'): Promise<Figures> {
  const c = await coordinator(n);
  const agents = await openMany(n, c.port);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, c.rssMb())), 100);
  let ready = 0;
  let done!: () => void;
  const allReady = new Promise<void>((resolve) => (done = resolve));
  // Replies to register and publish (and subscribe), one message per instance when subscribed,
  // then network_ready's reply.
  const before = mode === 'address' ? 3 + n : 2;
  agents.forEach((s) => {
    let reported = false;
    countFrames(s, (total) => {
      if (!reported && total >= before) {
        reported = true;
        s.write('{"type":"network_ready","id":9}\n');
      }
      if (reported && total === before + 1 && ++ready === n) done();
    });
  });
  const t0 = process.hrtime.bigint();
  agents.forEach((s, i) => {
    const group = `g${i % GROUPS}`;
    const name = `${group}-${Math.floor(i / GROUPS)}`;
    const ip = `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    s.write(
      `{"type":"register","id":1,"role":"agent","instance":"${name}"}\n` +
        `{"type":"publish","id":2,"topic":"${TOPIC}",` +
        `"payload":{"instance":"${name}","group":"${group}","ip":"${ip}"}}\n` +
        (mode === 'address' ? `{"type":"subscribe","id":3,"topic":"${TOPIC}"}\n` : ''),
    );
  });
  // The coordinator may not live through it: today's exchange queues N × N messages.
  const died = new Promise<string>((resolve) =>
    c.proc.once('exit', (code, signal) => {
      const last = c
        .stderr()
        .split('\n')
        .find((l) => /FATAL ERROR|out of memory/i.test(l));
      resolve(`the coordinator exited (${signal ?? code}${last ? `: ${last.trim()}` : ''})`);
    }),
  );
  const failed = await Promise.race([allReady.then(() => undefined), died]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  clearInterval(sampler);
  if (failed) {
    for (const s of agents) s.destroy();
    return { ms, frames: NaN, bytes: NaN, rssMb: peak, failed: `${failed} after ${ready} of ${n} agents were ready` };
  }
  peak = Math.max(peak, c.rssMb());
  const status = (await (await fetch(`http://127.0.0.1:${c.port}/status`)).json()) as { network_ready: number };
  if (status.network_ready !== n)
    throw new Error(`${mode} N=${n}: the coordinator counts ${status.network_ready} ready`);
  const metrics = await (await fetch(`http://127.0.0.1:${c.port}/metrics`)).text();
  const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]);
  const figures = { ms, frames: counter('tgc_sent_frames_total'), bytes: counter('tgc_sent_bytes_total'), rssMb: peak };
  for (const s of agents) s.destroy();
  c.proc.kill('SIGTERM');
  await new Promise((r) => c.proc.once('exit', r));
  return figures;
}

const results = new Map<string, Figures>();
for (const mode of ['mark', 'address'] as const) {
  for (const n of SIZES) {
    const f = await run(n, mode);
    results.set(`${mode} ${n}`, f);
    if (f.failed) {
      console.log(
        `${mode.padEnd(7)} N=${String(n).padStart(6)}: FAILED at ${f.ms.toFixed(0)} ms, peak RSS ` +
          `${f.rssMb.toFixed(0)} MB: ${f.failed}`,
      );
      continue;
    }
    console.log(
      `${mode.padEnd(7)} N=${String(n).padStart(6)}: ready in ${f.ms.toFixed(0).padStart(7)} ms · ` +
        `${f.frames.toLocaleString('en')} frames, ${(f.bytes / 1e6).toFixed(1)} MB sent · ` +
        `peak RSS ${f.rssMb.toFixed(0)} MB`,
    );
  }
}
const [small, large] = [SIZES[0]!, SIZES.at(-1)!];
const at = (mode: string, n: number) => results.get(`${mode} ${n}`)!;
const mark = at('mark', large).bytes / at('mark', small).bytes;
const address = at('address', large).bytes / at('address', small).bytes;
const rss = at('mark', large).rssMb;
const baseline = at('address', large).failed
  ? `did not finish at N=${large} (${at('address', large).failed})`
  : `${address.toFixed(1)}×`;
console.log(
  `bytes sent, N=${large} over N=${small}: mark ${mark.toFixed(1)}× ` +
    `(target ≤ 20×: ${mark <= 20 ? 'met' : 'MISSED'}); address, the baseline, ${baseline}`,
);
if (!at('address', large).failed)
  console.log(
    `at N=${large}: mark sends ${(at('address', large).bytes / at('mark', large).bytes).toFixed(0)}× fewer bytes ` +
      `than address and is ready ${(at('address', large).ms / at('mark', large).ms).toFixed(1)}× sooner`,
  );
console.log(
  `coordinator peak RSS, mark, N=${large}: ${rss.toFixed(0)} MB (target < 1024 MB: ${rss < 1024 ? 'met' : 'MISSED'})`,
);
