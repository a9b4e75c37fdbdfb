import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, type TestContext } from 'node:test';
import { main, type CliIo } from '../../cli/main.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A fresh directory under the OS temp dir, removed when the test file ends. */
export function tempDir(prefix = 'tgc-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // TGC_KEEP_TEMP=1 keeps them, to look at a failed run's directory afterwards.
  if (!process.env.TGC_KEEP_TEMP) after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI in-process (same code as the binary, minus process start-up); `env` is the
 * environment it sees (templates' .Env, PATH for openers), none by default.
 */
export async function runCli(
  argv: string[],
  stdin: string | Uint8Array = '',
  env?: Record<string, string>,
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: () => (typeof stdin === 'string' ? new TextEncoder().encode(stdin) : stdin),
    color: false,
    ...(env && { env }),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The built CLI, as users run it. */
export const bin = join(repoRoot, 'dist/tgc.mjs');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly out: string;
  readonly ms: number;
  /**
   * What a failed assertion should show: the run's outcome and reason from results.json and the
   * end of its stderr first (a CI summary keeps only the first lines), then everything it printed.
   */
  readonly said: string;
}

function said(out: string, stdout: string, stderr: string): string {
  let head = 'no results.json';
  try {
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { outcome?: string; reason?: string };
    head = `run ${r.outcome}${r.reason ? `: ${r.reason}` : ''}`;
  } catch {
    // No run directory: stderr says why.
  }
  const tail = stderr.trimEnd().split('\n').slice(-6).join('\n');
  return `${head}\n--- end of stderr:\n${tail}\n--- all of it:\n${stderr}${stdout}`;
}

/** `tgc run` in a child process, its run directory in a fresh temp dir. */
export function tgcRun(
  plan: string,
  extra: string[] = [],
  onStderr?: (text: string, proc: ReturnType<typeof spawn>) => void,
  env?: NodeJS.ProcessEnv,
): Promise<Run> {
  const out = join(tempDir('tgc-run-'), 'run');
  const t0 = Date.now();
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [bin, 'run', plan, '--out', out, ...extra], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env && { env }),
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d));
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d;
      onStderr?.(stderr, proc);
    });
    proc.once('exit', (code) =>
      resolve({ code, stdout, stderr, out, ms: Date.now() - t0, said: said(out, stdout, stderr) }),
    );
  });
}

const validateResults = new Ajv({ allErrors: true, allowUnionTypes: true, formats: { 'date-time': true } }).compile(
  JSON.parse(readFileSync(join(repoRoot, 'docs/results.schema.json'), 'utf8')),
);

/** results.json of a run, checked against docs/results.schema.json. */
export function results(out: string): Record<string, any> {
  const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Record<string, any>;
  assert.ok(validateResults(r), JSON.stringify(validateResults.errors));
  return r;
}

/**
 * Checks a run's junit.xml against docs/junit.xsd with libxml2's xmllint, as a subtest of `t`:
 * where xmllint is missing that subtest is skipped, saying so, and the rest of `t` still runs.
 */
export async function checkJunitSchema(t: TestContext, file: string): Promise<void> {
  const missing = spawnSync('xmllint', ['--version']).error
    ? 'needs xmllint on PATH (apt-get install libxml2-utils; CI installs it)'
    : false;
  await t.test('junit.xml is valid against docs/junit.xsd (xmllint)', { skip: missing }, () => {
    execFileSync('xmllint', ['--noout', '--schema', join(repoRoot, 'docs/junit.xsd'), file], { stdio: 'pipe' });
  });
}
