// Property-based fuzzing (fast-check) of every plan decoder, bounded for npm test; the long run
// is npm run fuzz (test/support/fuzz-long.ts). Properties: nothing escapes as an exception (the
// CLI's exit 70); every error of a rejected plan has its place in the file.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { decide, fuzzInput, type Syntax } from '../support/fuzz-inputs.js';
import { repoRoot } from '../support/helpers.js';

/** Whatever a decoder lets Node.js print on its own (a library's process warning) is a failure too. */
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(w.message));

/** Per syntax: enough to cover the poison in a few seconds. */
const RUNS = 300;

for (const syntax of ['toml', 'yaml', 'testground'] as Syntax[]) {
  test(`fuzz ${syntax}: mutated plans are decided without an exception, every error located`, async () => {
    let slowest = 0;
    fc.assert(
      fc.property(fuzzInput(syntax), (input) => {
        slowest = Math.max(slowest, decide(input).ms);
      }),
      { numRuns: RUNS, seed: 20261203 },
    );
    assert.ok(Number.isFinite(slowest));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, []);
  });
}

test('every case npm run fuzz found and saved (test/fixtures/fuzz) is decided now', () => {
  const dir = join(repoRoot, 'test/fixtures/fuzz');
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const syntax = name.split('-')[0] as Syntax;
    decide({ syntax, bytes: readFileSync(join(dir, name)) });
  }
});
