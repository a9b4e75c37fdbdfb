// bench/sync — how fast `tgc sync signal` is, from a shell script's point of view: the whole
// process (start, connect, attach, signal, exit), against `node -e 0` measured in the same run.
// Target: ≤ 1.5× (`tgc sync` loads only its own module: no compiler, no commander).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);

const coordinator = spawn(process.execPath, ['dist/tgc.mjs', 'coordinator', '--instances', '1', '--port', '0'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'pipe'],
});
const address = await new Promise<string>((resolve, reject) => {
  let err = '';
  coordinator.stderr!.on('data', (d: Buffer) => {
    err += d;
    const m = /listening on (\S+),/.exec(err);
    if (m) resolve(m[1]!);
  });
  coordinator.once('exit', () => reject(new Error(`the coordinator did not start: ${err}`)));
});

function timed(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const env = { ...process.env, TGC_COORDINATOR: address, TGC_INSTANCE: 'g-0', TGC_GROUP: 'g' };
const base: number[] = [];
const sync: number[] = [];
// Alternate the two so that drift in the machine's state hits both alike; one warm-up each.
timed(['-e', '0']);
timed(['dist/tgc.mjs', 'sync', 'signal', 'warm'], env);
for (let i = 0; i < RUNS; i++) {
  base.push(timed(['-e', '0']));
  sync.push(timed(['dist/tgc.mjs', 'sync', 'signal', 's'], env));
}
coordinator.kill('SIGTERM');
const ratio = median(sync) / median(base);
console.log(
  `bench/sync: median of ${RUNS} runs each\n` +
    `node -e 0                 ${median(base).toFixed(1).padStart(7)} ms\n` +
    `tgc sync signal STATE     ${median(sync).toFixed(1).padStart(7)} ms   ratio ${ratio.toFixed(2)}` +
    `${ratio <= 1.5 ? '  ok (target ≤ 1.5)' : '  MISSED (target ≤ 1.5)'}`,
);
process.exitCode = ratio <= 1.5 ? 0 : 1;
