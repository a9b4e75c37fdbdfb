import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, runCli, tempDir } from '../support/helpers.js';

const bin = join(repoRoot, 'dist/tgc.mjs');
const tgc = (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, ...options.env },
  });

const dir = tempDir();
const bad = join(dir, 'bad.toml');
writeFileSync(bad, 'version = 1\nname = "Bad"\n[[groups]]\nid = "a"\ninstances = 0\ncommand = ["x"]\n');
const badYaml = join(dir, 'bad.yaml');
writeFileSync(badYaml, 'version: 1\nname: Bad\ngroups:\n  - id: a\n    instances: 0\n    command: [x]\n');

test('--help lists the commands and exits 0', () => {
  const r = tgc(['--help']);
  assert.equal(r.status, 0);
  for (const cmd of ['validate', 'plan', 'schema']) assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
});

test('--version prints the package version', () => {
  const r = tgc(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
});

test('validate: ok plan exits 0', () => {
  const r = tgc(['validate', 'examples/ping/plan.toml']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ok \(1 group, 2 instances\)/);
});

test('diagnostics print as file:line:col: error[CODE]: message, the source line and a caret; exit 2', () => {
  const r = tgc(['validate', bad], { env: { NO_COLOR: '' } });
  assert.equal(r.status, 2);
  const lines = r.stderr.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${bad}:2:8: error[BAD_NAME]: `));
  assert.ok(i >= 0, r.stderr);
  assert.equal(lines[i + 2], '2 | name = "Bad"');
  assert.equal(lines[i + 3], '  |        ^^^^^');
  const j = lines.findIndex((l) => l.startsWith(`${bad}:5:13: error[ZERO_INSTANCES]: `));
  assert.ok(j > i, 'sorted by position, all problems at once');
  assert.equal(lines[j + 3], '  |             ^');
  assert.match(r.stderr, /\n2 errors\n$/);
  assert.doesNotMatch(r.stderr, /\x1b\[/, 'no colour when not a TTY');
});

test('a 10,000-character line with an error at column 9,000: a window around the caret, no line over 200', () => {
  const file = join(dir, 'long-line.toml');
  const before = 'x'.repeat(8980);
  const line = `params = { pad = "${before}", bad = nan, after = "${'y'.repeat(1000)}" }`;
  const col = line.indexOf('nan') + 1;
  assert.ok(col > 9000 && line.length > 10000);
  writeFileSync(file, `version = 1\nname = "p"\n[[groups]]\nid = "a"\ninstances = 1\ncommand = ["x"]\n${line}\n`);
  const r = tgc(['validate', file], { env: { NO_COLOR: '' } });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.split('\n');
  assert.deepEqual(
    lines.filter((l) => [...l].length > 200),
    [],
  );
  const i = lines.findIndex((l) => l.startsWith(`${file}:7:${col}: error[BAD_NUMBER]`));
  assert.ok(i >= 0, r.stderr);
  const [excerpt, caret] = [lines[i + 2]!, lines[i + 3]!];
  assert.match(excerpt, /^7 \| …x+", bad = nan, after = "y+…$/);
  // The caret still points at the value.
  const at = caret.indexOf('^');
  assert.equal(excerpt.slice(at, at + 3), 'nan');
});

test('TOML and YAML report the same codes for the same mistakes', () => {
  const codes = (file: string) => [...tgc(['validate', file]).stderr.matchAll(/error\[(\w+)\]/g)].map((m) => m[1]);
  assert.deepEqual(codes(bad), ['BAD_NAME', 'ZERO_INSTANCES']);
  assert.deepEqual(codes(badYaml), codes(bad));
});

test('validate --json gives the diagnostics on stdout', () => {
  const r = tgc(['validate', '--json', bad]);
  assert.equal(r.status, 2);
  const out = JSON.parse(r.stdout);
  assert.equal(out.ok, false);
  assert.deepEqual(
    out.diagnostics.map((d: { code: string; line: number; col: number }) => [d.code, d.line, d.col]),
    [
      ['BAD_NAME', 2, 8],
      ['ZERO_INSTANCES', 5, 13],
    ],
  );
});

test('a plan from stdin needs --format, and works with it', () => {
  const plan = readFileSync(join(repoRoot, 'examples/ping/plan.yaml'), 'utf8');
  const without = tgc(['validate', '-'], { input: plan });
  assert.equal(without.status, 2);
  assert.match(without.stderr, /--format/);
  const withFormat = tgc(['plan', '-', '--format', 'yaml', '--json'], { input: plan });
  assert.equal(withFormat.status, 0, withFormat.stderr);
  assert.equal(JSON.parse(withFormat.stdout).plan.name, 'ping');
  const wrongFormat = tgc(['validate', '-', '--format', 'toml'], { input: plan });
  assert.equal(wrongFormat.status, 2);
  assert.match(wrongFormat.stderr, /^<stdin>:\d+:\d+: error\[TOML_SYNTAX\]/m);
});

test('usage errors exit 2', () => {
  assert.equal(tgc(['frobnicate']).status, 2);
  assert.equal(tgc(['validate']).status, 2);
  assert.equal(tgc(['validate', 'x.toml', '--bogus']).status, 2);
  assert.equal(tgc(['validate', 'x.toml', '--format', 'json']).status, 2);
});

test('schema prints the composition JSON Schema', () => {
  const r = tgc(['schema']);
  assert.equal(r.status, 0);
  assert.deepEqual(
    JSON.parse(r.stdout),
    JSON.parse(readFileSync(join(repoRoot, 'schema/composition.schema.json'), 'utf8')),
  );
});

test('plan prints one row per group and the link rules', async () => {
  const r = await runCli(['plan', 'test/fixtures/valid/partition/plan.toml']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^9 instances in 3 groups/m);
  assert.match(r.stdout, /^left\s+4\s+node peer\.mjs\s+-\s+latency 20ms$/m);
  assert.match(r.stdout, /^bridge\s+\*\s+latency 150ms, rate 500kbit$/m);
});

test('bad input never leaves a stack trace', async () => {
  const r = await runCli(['plan', join(dir, 'missing.toml')]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(r.stderr, /error\[FILE_NOT_FOUND\]/);
});

test('tgc coordinator: --help, usage errors, and a run end to end', async () => {
  const help = tgc(['coordinator', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--instances N/);
  assert.equal(tgc(['coordinator']).status, 2);
  assert.equal(tgc(['coordinator', '--instances', '2', '--groups', 'a=1']).status, 2);
  assert.equal(tgc(['coordinator', '--instances', '1', '--timeout', 'soon']).status, 2);
  assert.equal(tgc(['coordinator', '--instances', '1', '--bogus']).status, 2);
  // A one-instance run through the real binary: the results JSON on stdout, exit 0.
  const { spawn } = await import('node:child_process');
  const proc = spawn(
    process.execPath,
    [bin, 'coordinator', '--instances', '1', '--port', '0', '--linger', '0s', '--plan', 'solo'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d));
  const port = await new Promise<number>((resolve) =>
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d;
      const m = /listening on [^:]+:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    }),
  );
  const { connect } = await import('../../sdk/index.js');
  const env = await connect({ coordinator: `127.0.0.1:${port}`, group: 'solo', env: {} });
  await env.success();
  const code = await new Promise((resolve) => proc.once('exit', resolve));
  assert.equal(code, 0, stderr);
  const results = JSON.parse(stdout);
  assert.equal(results.plan, 'solo');
  assert.equal(results.outcome, 'success');
  await env.close();
});

test('the built bin is executable, as npx runs it', () => {
  assert.ok((statSync(bin).mode & 0o111) !== 0, 'dist/tgc.mjs has no execute bit');
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
