// bench/compile — how long tgc takes to read a big plan, against starting Node itself.
//
// Builds a 100-group × 100-instance plan (10,000 instances) in memory, then measures, in one
// run on this machine:
//   - the baseline: `node -e 0` (process start-up, nothing else);
//   - parse + validate + normalize in-process, for the TOML and the YAML spelling;
//   - the whole CLI, `tgc plan --json`, on each spelling;
//   - the whole CLI compiling to Kubernetes, `tgc compile --target k8s -o DIR` (TOML).
// Prints each median and its ratio to the baseline. Targets: `tgc plan` ≤ 4×, `tgc compile
// --target k8s` ≤ 5× `node -e 0`.
// Run: npm run bench (builds dist/ first if needed).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileText } from '../compiler/pipeline.js';

const GROUPS = 100;
const PER_GROUP = 100;
const CLI_RUNS = 15;
const INPROCESS_RUNS = 30;
const TARGET = 4;
const COMPILE_TARGET = 5;

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'dist/tgc.mjs');
if (!existsSync(bin)) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

function planToml(): string {
  const out = [
    'version = 1',
    'name = "bench"',
    '[run]',
    'timeout = "30m"',
    '[defaults]',
    'image = "bench:latest"',
    'command = ["node", "node.mjs"]',
    'params = { rounds = 10, payload = "x" }',
    '[network]',
    'latency = "20ms"',
    'jitter = "2ms"',
    'bandwidth = "100Mbit"',
  ];
  for (let g = 0; g < GROUPS; g += 10)
    out.push('[[network.links]]', `from = "g${g}"`, `to = "g${(g + 1) % GROUPS}"`, 'latency = "150ms"', 'loss = "1%"');
  for (let g = 0; g < GROUPS; g++) {
    out.push(
      '[[groups]]',
      `id = "g${g}"`,
      `instances = ${PER_GROUP}`,
      `params = { index = ${g}, label = "group ${g}" }`,
      `env = { GROUP_INDEX = "${g}" }`,
      `network = { loss = "${(g % 5) / 10}%" }`,
    );
  }
  return out.join('\n') + '\n';
}

function planYaml(): string {
  const out = [
    'version: 1',
    'name: bench',
    'run: { timeout: 30m }',
    'defaults:',
    '  image: bench:latest',
    '  command: [node, node.mjs]',
    '  params: { rounds: 10, payload: x }',
    'network:',
    '  latency: 20ms',
    '  jitter: 2ms',
    '  bandwidth: 100Mbit',
    '  links:',
  ];
  for (let g = 0; g < GROUPS; g += 10)
    out.push(`    - { from: g${g}, to: g${(g + 1) % GROUPS}, latency: 150ms, loss: 1% }`);
  out.push('groups:');
  for (let g = 0; g < GROUPS; g++) {
    out.push(
      `  - id: g${g}`,
      `    instances: ${PER_GROUP}`,
      `    params: { index: ${g}, label: group ${g} }`,
      `    env: { GROUP_INDEX: "${g}" }`,
      `    network: { loss: ${(g % 5) / 10}% }`,
    );
  }
  return out.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function timeSpawn(args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return median(times);
}

function timeInProcess(name: string, text: string): number {
  const times: number[] = [];
  for (let i = 0; i < INPROCESS_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = compileText(name, text);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!r.plan || r.plan.totalInstances !== GROUPS * PER_GROUP) throw new Error(`${name} did not compile`);
  }
  return median(times.slice(3)); // the first runs pay for JIT warm-up and ajv's schema compile
}

const dir = mkdtempSync(join(tmpdir(), 'tgc-bench-'));
try {
  const toml = join(dir, 'plan.toml');
  const yaml = join(dir, 'plan.yaml');
  writeFileSync(toml, planToml());
  writeFileSync(yaml, planYaml());
  const baseline = timeSpawn(['-e', '0']);
  const rows: [string, number, number | undefined][] = [
    ['parse+validate+normalize, in-process (toml)', timeInProcess('plan.toml', planToml()), undefined],
    ['parse+validate+normalize, in-process (yaml)', timeInProcess('plan.yaml', planYaml()), undefined],
    ['tgc plan --json plan.toml (whole CLI)', timeSpawn([bin, 'plan', '--json', toml]), TARGET],
    ['tgc plan --json plan.yaml (whole CLI)', timeSpawn([bin, 'plan', '--json', yaml]), TARGET],
    [
      'tgc compile --target k8s plan.toml (whole CLI)',
      timeSpawn([bin, 'compile', toml, '--target', 'k8s', '-o', join(dir, 'k8s')]),
      COMPILE_TARGET,
    ],
  ];
  console.log(`bench/compile: ${GROUPS} groups × ${PER_GROUP} instances = ${GROUPS * PER_GROUP} instances`);
  console.log(`baseline: node -e 0  median ${baseline.toFixed(1)} ms (${CLI_RUNS} runs)`);
  let missed = false;
  for (const [label, ms, target] of rows) {
    const ratio = ms / baseline;
    const verdict = target === undefined ? '' : `  ${ratio <= target ? 'ok' : 'MISSED'} (target ≤ ${target}×)`;
    if (target !== undefined && ratio > target) missed = true;
    console.log(
      `${label.padEnd(48)} median ${ms.toFixed(1).padStart(7)} ms  ratio ${ratio.toFixed(2)}× node -e 0${verdict}`,
    );
  }
  process.exitCode = missed ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
