// The many-instance half of bench/compose: `tgc run --target compose` of examples/barrier-storm
// (INSTANCES instances, default 50) against Docker itself starting and removing as many plain
// containers of the same image, 8 at a time (`docker run -d … sleep`, then `docker rm -f`) —
// measured in the same run, alternating. Returns the medians and their ratio.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const IMAGE = 'tgc-example-barrier-storm:latest';
const AT_ONCE = 8;

/** Runs `argv` for each item, `AT_ONCE` at a time; rejects on the first failure. */
async function pool(items: readonly string[], argv: (item: string) => string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const args = argv(items[next++]!);
      await new Promise<void>((resolve, reject) => {
        const p = spawn('docker', args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker ${args[0]}: ${err.trim()}`))));
      });
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
}

/** A failed run's outcome and its first failed instances (the --json results), and its stderr's end. */
function runSaid(stdout: string, stderr: string): string {
  try {
    const r = JSON.parse(stdout) as {
      reason?: string;
      instances?: { name: string; outcome: string; reason?: string }[];
    };
    const bad = (r.instances ?? []).filter((i) => i.outcome !== 'success').slice(0, 5);
    return [r.reason, ...bad.map((i) => `${i.name}: ${i.outcome} — ${i.reason ?? ''}`), stderr.slice(-3000)].join('\n');
  } catch {
    return `${stdout.slice(-1000)}\n${stderr.slice(-3000)}`;
  }
}

/** Docker's own start and removal of `n` plain containers of the image, 8 at a time; ms. */
async function dockerBaseline(n: number, tag: string): Promise<number> {
  const names = Array.from({ length: n }, (_, i) => `${tag}-${i}`);
  const t0 = process.hrtime.bigint();
  await pool(names, (name) => [
    'run',
    '-d',
    '--name',
    name,
    '--label',
    'dev.tgc.bench=compose',
    '--entrypoint',
    'sleep',
    IMAGE,
    '600',
  ]);
  await pool(names, (name) => ['rm', '-f', name]);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function stormBench(
  root: string,
  runs: number,
  instances: number,
): Promise<{ tgc: number[]; docker: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tgc-bench-storm-'));
  const plan = join(dir, 'plan.toml');
  // The example with its group resized; its image and program as they are.
  writeFileSync(
    plan,
    readFileSync(join(root, 'examples/barrier-storm/plan.toml'), 'utf8')
      .replace(/^instances = \d+$/m, `instances = ${instances}`)
      .replace(/^#:schema .*\n/, ''),
  );
  const tgc: number[] = [];
  const docker: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      docker.push(await dockerBaseline(instances, `tgcbench${process.pid}x${i}`));
      const t0 = process.hrtime.bigint();
      const r = spawnSync(
        process.execPath,
        [join(root, 'dist/tgc.mjs'), 'run', plan, '--target', 'compose', '--json', '--out', join(dir, `run-${i}`)],
        { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      tgc.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0)
        throw new Error(`tgc run of barrier-storm exited ${r.status}: ${runSaid(r.stdout, r.stderr)}`);
    }
  } finally {
    spawnSync('sh', ['-c', 'docker ps -aq --filter label=dev.tgc.bench=compose | xargs -r docker rm -f']);
    rmSync(dir, { recursive: true, force: true });
  }
  return { tgc, docker };
}
