// bench/build — what tgc's build step costs when nothing changed.
//
// A docker:go composition of three groups (three distinct builds: build tags, cgo), built once;
// then, several times each, alternating:
//   - `tgc run` of it: the time of its build step, which tgc prints ("tgc: build step: …");
//   - the baseline: `docker build` of one of the three with Docker's layer cache warm (what
//     `docker compose up --build` pays for each image on every run).
// Prints both medians and the ratio, and the build step against its target: ≤ 0.5 s. Needs
// Docker and Go (the base images are assembled offline, as the tests do); npm run bench:build.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLabSkipReason } from '../test/support/build-lab.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_S = 0.5;
const root = fileURLToPath(new URL('..', import.meta.url));
if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
const skip = buildLabSkipReason();
if (skip) {
  console.error(`bench/build: ${skip}`);
  process.exit(3);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function tgc(args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'dist/tgc.mjs'), ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tgc ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-3000)}`);
  return r.stderr;
}

const dir = mkdtempSync(join(tmpdir(), 'tgc-bench-build-'));
const plan = join(dir, 'plan');
cpSync(join(root, 'test/fixtures/builds/docker-go/plan'), plan, { recursive: true });
const composition = join(plan, 'three.toml');
writeFileSync(
  composition,
  `[global]
plan = "greeter"
case = "greet"
builder = "docker:go"
runner = "local:docker"
total_instances = 3

[global.build_config]
build_base_image = "tgc-test-golang:local"
runtime_image = "tgc-test-busybox:local"

[[groups]]
id = "plain"
instances = { count = 1 }

[[groups]]
id = "fancy"
instances = { count = 1 }
  [groups.build]
  selectors = ["fancy"]

[[groups]]
id = "cgo"
instances = { count = 1 }
  [groups.build_config]
  enable_cgo = true
`,
);
const steps: number[] = [];
const docker: number[] = [];
try {
  tgc(['build', composition]);
  // The baseline's Dockerfile: the one tgc generated for "plain", in a compiled compose tree.
  const deploy = join(dir, 'deploy');
  tgc(['compile', composition, '--target', 'compose', '-o', deploy]);
  const dockerBuild = [
    'build',
    '-q',
    '-f',
    join(deploy, 'build/plain/Dockerfile'),
    '-t',
    'tgc-bench-build:baseline',
    plan,
  ];
  spawnSync('docker', dockerBuild);
  for (let i = 0; i < RUNS; i++) {
    const err = tgc(['run', composition, '--json', '--out', join(dir, `run-${i}`)]);
    const m = /tgc: build step: 3 builds for compose, all cached, ([0-9.]+) s/.exec(err);
    if (!m) throw new Error(`no cached build step in:\n${err}`);
    steps.push(Number(m[1]) * 1000);
    const t0 = process.hrtime.bigint();
    const r = spawnSync('docker', dockerBuild, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`docker build: ${r.stderr}`);
    docker.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
} finally {
  spawnSync('docker', ['rmi', 'tgc-bench-build:baseline'], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
const step = median(steps);
const base = median(docker);
console.log(`tgc run's build step, 3 groups, all cached: median ${step.toFixed(0)} ms over ${RUNS} runs`);
console.log(`baseline, docker build of 1 of them with a warm layer cache: median ${base.toFixed(0)} ms`);
console.log(`ratio (tgc's 3 builds / docker's 1): ${(step / base).toFixed(2)}`);
console.log(
  `build step ${(step / 1000).toFixed(2)} s, target ≤ ${TARGET_S} s: ${step / 1000 <= TARGET_S ? 'met' : 'NOT met'}`,
);
