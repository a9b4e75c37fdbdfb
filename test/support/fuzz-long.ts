// npm run fuzz: the decoders' fuzzing for as long as FUZZ_SECONDS says (default 600), round
// robin over the syntaxes; prints cases per second and the slowest input's time. A failing
// case is shrunk and saved in test/fixtures/fuzz/, which npm test replays from then on.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decide, fuzzInput, type FuzzInput, type Syntax } from './fuzz-inputs.js';
import { repoRoot } from './helpers.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? 600);
const end = Date.now() + seconds * 1000;
const counts: Record<Syntax, number> = { toml: 0, yaml: 0, testground: 0 };
let slowest = 0;
// A process warning (a library printing on its own) is a failure too, though not one input's.
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(w.message));
let round = 0;
while (Date.now() < end) {
  for (const syntax of Object.keys(counts) as Syntax[]) {
    const result = fc.check(
      fc.property(fuzzInput(syntax), (input) => {
        counts[syntax]++;
        slowest = Math.max(slowest, decide(input).ms);
      }),
      { numRuns: 200, seed: Date.now() ^ (round++ * 7919) },
    );
    if (result.failed) {
      const input = result.counterexample![0] as FuzzInput;
      const dir = join(repoRoot, 'test/fixtures/fuzz');
      mkdirSync(dir, { recursive: true });
      const hash = createHash('sha256').update(input.bytes).digest('hex').slice(0, 8);
      const name = `${syntax}-${hash}.${syntax === 'yaml' ? 'yaml' : 'toml'}`;
      writeFileSync(join(dir, name), input.bytes);
      console.error(
        `fuzz: a failing ${syntax} input, saved as test/fixtures/fuzz/${name}:\n${String(result.errorInstance)}`,
      );
      process.exit(1);
    }
  }
}
if (warnings.length > 0) {
  console.error(`fuzz: ${warnings.length} process warnings, the first: ${warnings[0]}`);
  process.exit(1);
}
const total = Object.values(counts).reduce((a, b) => a + b, 0);
console.log(
  `fuzz: ${total} cases in ${seconds} s (${(total / seconds).toFixed(0)}/s; toml ${counts.toml}, ` +
    `yaml ${counts.yaml}, testground ${counts.testground}), 0 failures; the slowest input took ` +
    `${slowest.toFixed(0)} ms`,
);
