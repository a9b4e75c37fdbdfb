// Start-up on the three-node swarm lab (test/support/swarm-lab.sh): `tgc run --target swarm` of
// examples/barrier-storm with INSTANCES instances (default 30), from the command to every instance
// registered with the coordinator, against Docker alone: `docker service create --replicas N` of
// a plain container of the same image, from the command to N tasks running — measured in the same
// run, alternating, RUNS times each (default 2). Prints the medians and their ratio (target ≤ 1.5).
//   npm run bench:swarm     (root, Docker; TGC_SWARM_LAB=DIR uses a lab already started)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSwarmLab, stopSwarmLab, swarmSkipReason, type SwarmLab } from '../test/support/swarm-lab.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const IMAGE = 'tgc-example-barrier-storm:latest';
const RUNS = Number(process.env.RUNS ?? 2);
const INSTANCES = Number(process.env.INSTANCES ?? 30);

/** What a failed run said: its stderr without the progress lines, the end of it. */
const said = (stderr: string) =>
  stderr
    .split(/[\r\n]+/)
    .filter((l) => !/^tgc: registered \d+\/\d+ ·/.test(l))
    .slice(-60)
    .join('\n');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function docker(lab: SwarmLab, args: string[], node = 'node1'): string {
  const r = spawnSync('docker', args, { env: { ...process.env, DOCKER_HOST: lab.nodes[node] }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Docker alone: N replicas of a plain container of the image, until all N run; ms. */
async function baseline(lab: SwarmLab, name: string): Promise<number> {
  const t0 = performance.now();
  docker(lab, [
    'service',
    'create',
    '--detach',
    '--quiet',
    '--name',
    name,
    '--replicas',
    String(INSTANCES),
    '--restart-condition',
    'none',
    '--entrypoint',
    'sleep',
    IMAGE,
    '600',
  ]);
  for (;;) {
    const states = docker(lab, ['service', 'ps', '--format', '{{.CurrentState}}', name]).split('\n');
    if (states.filter((s) => s.startsWith('Running')).length >= INSTANCES) break;
    await sleep(100);
  }
  const ms = performance.now() - t0;
  docker(lab, ['service', 'rm', name]);
  // Gone from every node before the next measurement.
  for (const node of Object.keys(lab.nodes))
    while (docker(lab, ['ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${name}`], node).trim())
      await sleep(200);
  return ms;
}

/** tgc: from the command to "registered N/N" in its progress; the run then goes to its end. */
function tgcStartup(lab: SwarmLab, plan: string, out: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [join(root, 'dist/tgc.mjs'), 'run', plan, '--target', 'swarm', ...lab.nodeHostArgs, '--out', out],
      { env: lab.env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let all: number | undefined;
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (all === undefined && new RegExp(`registered ${INSTANCES}/${INSTANCES}`).test(err))
        all = performance.now() - t0;
    });
    p.on('exit', (code) =>
      code === 0 && all !== undefined
        ? resolve(all)
        : reject(new Error(`tgc run exited ${code} (its run directory, kept: ${out}):\n${said(err)}`)),
    );
  });
}

const skip = swarmSkipReason();
if (skip) {
  console.log(`bench:swarm skipped: ${skip}`);
  process.exit(0);
}
const lab = startSwarmLab(['tgc-runtime:0.1.0', IMAGE]);
const dir = mkdtempSync(join(tmpdir(), 'tgc-bench-swarm-'));
let failed = false;
try {
  // The image on every node before either is timed (neither measures image transfer).
  for (const node of ['node2', 'node3'])
    spawnSync('sh', ['-c', `docker save ${IMAGE} tgc-runtime:0.1.0 | DOCKER_HOST=${lab.nodes[node]} docker load -q`]);
  const plan = join(dir, 'plan.toml');
  writeFileSync(
    plan,
    readFileSync(join(root, 'examples/barrier-storm/plan.toml'), 'utf8')
      .replace(/^instances = \d+$/m, `instances = ${INSTANCES}`)
      .replace(/^#:schema .*\n/, ''),
  );
  const tgc: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(await baseline(lab, `tgcbench${process.pid}x${i}`));
    tgc.push(
      await tgcStartup(lab, plan, join(dir, `run-${i}`)).catch((err: Error) => {
        failed = true;
        throw err;
      }),
    );
    console.log(
      `run ${i + 1}: tgc ${(tgc[i]! / 1000).toFixed(1)} s, docker service create ${(base[i]! / 1000).toFixed(1)} s`,
    );
  }
  const ratio = median(tgc) / median(base);
  console.log(
    `barrier-storm, ${INSTANCES} instances over 3 nodes, start-up to all registered: ` +
      `tgc ${(median(tgc) / 1000).toFixed(1)} s ` +
      `vs docker service create --replicas ${INSTANCES} to all running ${(median(base) / 1000).toFixed(1)} s: ` +
      `ratio ${ratio.toFixed(2)} (target ≤ 1.5)`,
  );
} finally {
  // A failed run's directory stays, for its logs.
  if (!failed) rmSync(dir, { recursive: true, force: true });
  stopSwarmLab(lab);
}
