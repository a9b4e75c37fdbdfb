// The command line fuzzed (fast-check): argument vectors from tgc's own words — the commands
// that read and check (never one that runs or writes), their options, plan files, stdin, and
// garbage. Property: an exit code tgc documents (0, 1, 2, 3), never 70 or an exception.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { repoRoot, runCli } from '../support/helpers.js';

const plans = [
  'examples/ping/plan.toml',
  'examples/ping/plan.yaml',
  'test/fixtures/testground/valid/builders-all/plan/composition.toml',
  'test/fixtures/testground/valid/runs/composition.toml',
  '-',
  '/nonexistent/plan.toml',
  repoRoot,
].map((p) => (p.startsWith('/') || p === '-' ? p : join(repoRoot, p)));

const word = fc.oneof(
  fc.constantFrom(
    '--format',
    'toml',
    'yaml',
    'testground',
    'json',
    '--json',
    '--run',
    'default',
    '--manifest',
    '--target',
    'compose',
    'k8s',
    'nomad',
    'local',
    'swarm',
    '--image',
    'g=busybox',
    '=',
    '--check',
    '-o',
    '--help',
    '-h',
    '--version',
    '--',
    '',
  ),
  fc.constantFrom(...plans),
  fc.string({ maxLength: 12 }),
);

const argv = fc
  .tuple(
    fc.constantFrom('validate', 'plan', 'convert', 'schema', 'compile', 'nope', '--help'),
    fc.array(word, { maxLength: 8 }),
  )
  .map(([command, rest]) => {
    const args = [command, ...rest];
    // compile only ever compares (--check, into a directory that does not exist): it writes nothing.
    if (command === 'compile') args.push('--check', '-o', '/nonexistent/tgc-fuzz-out');
    return args;
  });

test('fuzz: command lines of the commands that read and check exit 0, 1, 2 or 3, never 70', async () => {
  await fc.assert(
    fc.asyncProperty(argv, fc.constantFrom('', 'version = 1\n', '\u0000\u00ff'), async (args, stdin) => {
      const r = await runCli(args, stdin);
      assert.ok([0, 1, 2, 3].includes(r.code), `exit ${r.code} for ${JSON.stringify(args)}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /internal error/);
    }),
    { numRuns: 300, seed: 20261203 },
  );
});
