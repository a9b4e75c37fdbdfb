import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import TOML from '@iarna/toml';
import YAML from 'yaml';
import { prng, repoRoot, runCli } from '../support/helpers.js';

/** Mutated plans through `tgc validate`: the answer is always 0 or 2, never a crash. */
const MUTANTS = 2400;
const STACK = /\n\s+at .+[:(]\d+:\d+\)?/;

interface Seed {
  readonly format: 'toml' | 'yaml';
  readonly text: string;
}

const seeds: Seed[] = [];
for (const base of ['test/fixtures/valid', 'examples']) {
  for (const dir of readdirSync(join(repoRoot, base))) {
    for (const format of ['toml', 'yaml'] as const) {
      const file = join(repoRoot, base, dir, `plan.${format}`);
      if (existsSync(file)) seeds.push({ format, text: readFileSync(file, 'utf8') });
    }
  }
}

const rand = prng(20261125);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
const SWAPS: unknown[] = [
  0,
  -1,
  1.5,
  1e300,
  '',
  'x',
  '10ms',
  '1%',
  true,
  null,
  [],
  [1, 'a'],
  {},
  { count: 1 },
  '*',
  'a'.repeat(300),
];

/** Paths to every value inside a parsed plan, for deletions and type swaps. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v !== null && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) {
      const p = [...prefix, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths(child, p, out);
    }
  }
  return out;
}

function structural(seed: Seed, kind: 'delete' | 'swap'): string | undefined {
  const value =
    seed.format === 'toml' ? JSON.parse(JSON.stringify(TOML.parse(seed.text))) : YAML.parse(seed.text, { merge: true });
  const all = paths(value);
  if (all.length === 0) return undefined;
  const path = pick(all);
  let parent = value;
  for (const seg of path.slice(0, -1)) parent = parent[seg];
  const last = path[path.length - 1]!;
  if (kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = structuredClone(pick(SWAPS));
  if (seed.format === 'yaml') return YAML.stringify(value);
  try {
    return TOML.stringify(value);
  } catch {
    return undefined; // null and mixed shapes have no TOML spelling
  }
}

function textual(seed: Seed): Uint8Array {
  const bytes = Buffer.from(seed.text);
  switch (Math.floor(rand() * 5)) {
    case 0: {
      const b = Buffer.from(bytes);
      for (let n = 1 + Math.floor(rand() * 4); n > 0; n--) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      return b;
    }
    case 1:
      return bytes.subarray(0, Math.floor(rand() * bytes.length));
    case 2: {
      const at = Math.floor(rand() * bytes.length);
      return Buffer.concat([
        bytes.subarray(0, at),
        Buffer.from(
          pick([
            '[',
            ']',
            '{',
            '}',
            '"',
            "'",
            '=',
            ':',
            '\n',
            '- ',
            '&a ',
            '*a',
            '<<: ',
            '#',
            '\t',
            '\\',
            '\u0000',
            'é',
            '"""',
          ]),
        ),
        bytes.subarray(at),
      ]);
    }
    case 3: {
      const lines = seed.text.split('\n');
      const i = Math.floor(rand() * lines.length);
      lines.splice(i, 0, lines[Math.floor(rand() * lines.length)]!);
      return Buffer.from(lines.join('\n'));
    }
    default: {
      const lines = seed.text.split('\n');
      lines.splice(Math.floor(rand() * lines.length), 1);
      return Buffer.from(lines.join('\n'));
    }
  }
}

function mutant(): { seed: Seed; input: Uint8Array; kind: string } {
  const seed = pick(seeds);
  const r = rand();
  if (r < 0.25) {
    const text = structural(seed, 'delete');
    if (text !== undefined) return { seed, input: Buffer.from(text), kind: 'key deletion' };
  } else if (r < 0.5) {
    const text = structural(seed, 'swap');
    if (text !== undefined) return { seed, input: Buffer.from(text), kind: 'type swap' };
  }
  return { seed, input: textual(seed), kind: 'byte mutation' };
}

test(`${MUTANTS} mutated plans: validate exits 0 or 2, no exception, no stack trace`, async () => {
  assert.ok(seeds.length >= 8);
  const outcomes = { ok: 0, invalid: 0 };
  const kinds = new Map<string, number>();
  for (let i = 0; i < MUTANTS; i++) {
    const m = mutant();
    kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
    const r = await runCli(['validate', '-', '--format', m.seed.format], m.input);
    const context = () =>
      `mutant ${i} (${m.kind}, ${m.seed.format}):\n${Buffer.from(m.input).toString('utf8').slice(0, 2000)}\n--- ` +
      `stderr:\n${r.stderr}`;
    assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}: ${context()}`);
    assert.doesNotMatch(r.stderr + r.stdout, STACK, context());
    assert.doesNotMatch(r.stderr, /internal error/, context());
    if (r.code === 0) outcomes.ok++;
    else {
      outcomes.invalid++;
      assert.match(r.stderr, /^<stdin>(:\d+:\d+)?: error\[[A-Z_]+\]: /m, context());
    }
  }
  // The mutations must exercise both answers, and every kind must have run.
  assert.ok(outcomes.ok > 50 && outcomes.invalid > 500, JSON.stringify(outcomes));
  for (const kind of ['key deletion', 'type swap', 'byte mutation'])
    assert.ok((kinds.get(kind) ?? 0) > 300, `${kind}: ${kinds.get(kind)}`);
});

test('mutated plans through the real binary, from stdin', () => {
  const bin = join(repoRoot, 'dist/tgc.mjs');
  for (let i = 0; i < 25; i++) {
    const m = mutant();
    const r = spawnSync(process.execPath, [bin, 'validate', '-', '--format', m.seed.format], {
      input: m.input,
      encoding: 'utf8',
    });
    assert.ok(r.status === 0 || r.status === 2, `exit ${r.status}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr + r.stdout, STACK);
  }
});
