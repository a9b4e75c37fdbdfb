// bench/compose — what tgc's compose driver costs over Docker Compose itself.
//
// In one run, alternating, several times each:
//   - `tgc run --target compose` of bench/fixtures/compose-ping/plan.toml (the ping example
//     with no latency and shaping off: a coordinator and two runners);
//   - the baseline: `docker-compose up --abort-on-container-exit` of the hand-written
//     bench/fixtures/compose-ping/compose.yaml (the same coordinator and runners), then
//     `down -v` — tgc's time includes its own teardown too.
// Then examples/barrier-storm with 50 instances (STORM_INSTANCES) against Docker starting and
// removing 50 plain containers of its image, 8 at a time (bench/compose-storm.ts; STORM_RUNS runs
// each, default 2). Prints the medians and both ratios. Target: ≤ 1.2 each. Needs Docker,
// docker-compose and the images (images/offline-runtime.sh, images/build-examples.sh); run:
// npm run bench:compose (BENCH_RUNS=0 skips the ping half, STORM_RUNS=0 the storm).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stormBench } from './compose-storm.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET = 1.2;
const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = join(root, 'bench/fixtures/compose-ping');
if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
const compose = spawnSync('docker', ['compose', 'version']).status === 0 ? ['docker', 'compose'] : ['docker-compose'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function timed(cmd: string[], what: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), 'tgc-bench-compose-'));
const tgc: number[] = [];
const hand: number[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    tgc.push(
      timed(
        [
          process.execPath,
          join(root, 'dist/tgc.mjs'),
          'run',
          join(fixture, 'plan.toml'),
          '--target',
          'compose',
          '--json',
          '--out',
          join(dir, `run-${i}`),
        ],
        'tgc run --target compose',
      ),
    );
    const project = ['-p', `tgcbench${process.pid}x${i}`, '-f', join(fixture, 'compose.yaml')];
    const t0 = process.hrtime.bigint();
    // Exit codes: with --abort-on-container-exit the other containers are stopped (137/143); only a
    // failure to start counts.
    const up = spawnSync(compose[0]!, [...compose.slice(1), ...project, 'up', '--abort-on-container-exit'], {
      encoding: 'utf8',
    });
    spawnSync(compose[0]!, [...compose.slice(1), ...project, 'down', '-v', '--remove-orphans'], { encoding: 'utf8' });
    hand.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!/rtt to runners-/.test(up.stdout))
      throw new Error(`the hand-written deployment did not ping:\n${up.stdout.slice(-2000)}${up.stderr.slice(-2000)}`);
  }
  let ok = true;
  const seconds = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(1)).join(', ');
  console.log(`bench/compose: ${compose.join(' ')}`);
  if (RUNS > 0) {
    const [t, h] = [median(tgc), median(hand)];
    const ratio = t / h;
    ok &&= ratio <= TARGET;
    console.log(
      `ping, ${RUNS} runs each\n` +
        `  baseline: docker-compose up --abort-on-container-exit + down  median ${(h / 1000).toFixed(2)} s  ` +
        `(${seconds(hand)})\n` +
        `  tgc run --target compose (up, follow, collect, down)         median ${(t / 1000).toFixed(2)} s  ` +
        `(${seconds(tgc)})\n` +
        `  ratio ${ratio.toFixed(2)}×  ${ratio <= TARGET ? 'ok' : 'MISSED'} (target ≤ ${TARGET}×)`,
    );
  }
  const stormRuns = Number(process.env.STORM_RUNS ?? 2);
  const instances = Number(process.env.STORM_INSTANCES ?? 50);
  if (stormRuns > 0) {
    const storm = await stormBench(root, stormRuns, instances);
    const [t, d] = [median(storm.tgc), median(storm.docker)];
    const ratio = t / d;
    ok &&= ratio <= TARGET;
    console.log(
      `barrier-storm, ${instances} instances, ${stormRuns} runs each\n` +
        `  baseline: docker run -d + docker rm -f of ${instances} plain containers, 8 at a time  ` +
        `median ${(d / 1000).toFixed(2)} s  (${seconds(storm.docker)})\n` +
        `  tgc run --target compose of barrier-storm                          median ${(t / 1000).toFixed(2)} s  ` +
        `(${seconds(storm.tgc)})\n` +
        `  ratio ${ratio.toFixed(2)}×  ${ratio <= TARGET ? 'ok' : 'MISSED'} (target ≤ ${TARGET}×)`,
    );
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
