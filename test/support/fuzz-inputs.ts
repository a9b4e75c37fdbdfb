// What the decoders are fuzzed with (fast-check): the real plans, compositions and manifests of
// the repository, cut, spliced and salted with what breaks parsers — deep nesting in every
// syntax, alias chains, very long lines, NUL bytes, invalid UTF-8, huge numbers, duplicate
// keys. Shared by the bounded run in npm test and the long one (npm run fuzz).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { compileText } from '../../compiler/pipeline.js';
import { repoRoot } from './helpers.js';

export type Syntax = 'toml' | 'yaml' | 'testground';

export interface FuzzInput {
  readonly syntax: Syntax;
  readonly bytes: Uint8Array;
}

function seedsOf(dirs: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (const base of dirs) {
    for (const dir of readdirSync(join(repoRoot, base))) {
      for (const name of names) {
        const file = join(repoRoot, base, dir, name);
        if (existsSync(file)) out.push(readFileSync(file, 'utf8'));
        const nested = join(repoRoot, base, dir, 'plan', name);
        if (existsSync(nested)) out.push(readFileSync(nested, 'utf8'));
      }
    }
  }
  return out;
}

const SEEDS: Record<Syntax, string[]> = {
  toml: seedsOf(['test/fixtures/valid', 'examples'], ['plan.toml']),
  yaml: seedsOf(['test/fixtures/valid', 'examples'], ['plan.yaml']),
  testground: [
    ...seedsOf(['test/fixtures/testground/valid'], ['composition.toml']),
    ...seedsOf(['test/fixtures/testground/valid'], ['manifest.toml']),
  ],
};

const deep = (open: string, close: string, inner: string) =>
  fc.integer({ min: 1, max: 6000 }).map((n) => `${open.repeat(n)}${inner}${close.repeat(n)}`);

/** Text that breaks parsers, in each syntax's terms. */
const POISON: Record<Syntax, fc.Arbitrary<string>> = {
  toml: fc.oneof(
    deep('[', ']', '1').map((v) => `\nparams = { deep = ${v} }\n`),
    deep('{ a = ', ' }', '1').map((v) => `\nparams = ${v}\n`),
    fc.constant('\nname = "dup"\nname = "dup"\n'),
    fc.constant('\n[[groups]]\n[[groups]]\nid = 99999999999999999999999\n'),
    fc.constantFrom('\nx = 1e400\n', '\nx = -0x8000000000000001\n', '\nx = nan\n', '\nx = 1979-05-27T07:32:00Z\n'),
  ),
  yaml: fc.oneof(
    deep('[', ']', '1').map((v) => `\nparams: { deep: ${v} }\n`),
    deep('{a: ', '}', '1').map((v) => `\nparams: ${v}\n`),
    fc
      .integer({ min: 1, max: 3000 })
      .map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')),
    fc.integer({ min: 1, max: 12 }).map((n) => {
      const lines = ['x-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
      for (let i = 1; i <= n; i++)
        lines.push(
          `x-${i}: &a${i} [${Array(10)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      return `\n${lines.join('\n')}\nparams: { boom: *a${n} }\n`;
    }),
    fc.constantFrom('\nname: dup\nname: dup\n', '\nx: *nowhere\n', '\nx: &c [*c]\n', '\nx: !!binary AAAA\n'),
  ),
  testground: fc.oneof(
    deep('[', ']', '"1"').map((v) => `\n[global.build_config]\ndeep = ${v}\n`),
    fc.constantFrom(
      '\n{{ range .Env }}{{ end }}\n',
      '\n{{ template "x" }}\n',
      '\n{{ define "x" }}{{ template "x" }}{{ end }}{{ template "x" }}\n',
      '\n{{ load_resource "/etc/passwd" }}\n',
      '\n[global.build_config]\nskip_runtime_image = "yes"\n',
      '\n[[groups]]\nid = "g"\nbuilder = "docker:rust"\n',
    ),
  ),
};

/** Raw bytes no text editor writes: NUL, invalid UTF-8, a 1 MB line. */
const BYTES = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constant(Uint8Array.from([0xc3, 0x28, 0xff, 0xfe, 0])),
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => new TextEncoder().encode(`# ${'x'.repeat(n)}\n`)),
);

/** A seed cut at two places, with poison and bytes spliced in between. */
export function fuzzInput(syntax: Syntax): fc.Arbitrary<FuzzInput> {
  return fc
    .record({
      seed: fc.constantFrom(...SEEDS[syntax]),
      cut: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
      insert: fc.oneof(POISON[syntax], fc.string({ maxLength: 40 }), fc.fullUnicodeString({ maxLength: 40 })),
      bytes: fc.option(BYTES, { freq: 4 }),
    })
    .map(({ seed, cut, insert, bytes }) => {
      const [a, b] = cut.map((c) => Math.floor(c * seed.length)).sort((x, y) => x - y) as [number, number];
      const text = new TextEncoder().encode(seed.slice(0, a) + insert + seed.slice(b));
      if (!bytes) return { syntax, bytes: text };
      const out = new Uint8Array(text.length + bytes.length);
      out.set(text.subarray(0, a));
      out.set(bytes, a);
      out.set(text.subarray(a), a + bytes.length);
      return { syntax, bytes: out };
    });
}

/**
 * One input through the whole pipeline, as `tgc validate` takes it. Throws when a property
 * fails: an exception escaped, or an error has no place in the file.
 */
export function decide(input: FuzzInput): { ms: number; errors: number } {
  const t0 = performance.now();
  const r = compileText(
    input.syntax === 'testground' ? 'composition.toml' : `plan.${input.syntax}`,
    input.bytes,
    input.syntax,
    {
      testground: { env: {} },
    },
  );
  const errors = r.diagnostics.items.filter((d: Diagnostic) => d.severity === 'error');
  // A plan's own problems are in the plan: each at a line (a Testground run/manifest problem
  // may concern the command line or another file).
  const unplaced = errors.filter((d) => d.line === undefined && !['UNKNOWN_RUN', 'FILE_NOT_FOUND'].includes(d.code));
  if (unplaced.length > 0) throw new Error(`errors without a place: ${JSON.stringify(unplaced)}`);
  if (errors.length === 0 && !r.plan) throw new Error('no error and no plan');
  return { ms: performance.now() - t0, errors: errors.length };
}
