// The architecture's rules (docs/architecture.md), read off the import statements of every
// source file: which folder may import which, no cycles, and the size limits.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import test from 'node:test';
import { repoRoot } from '../support/helpers.js';

const SOURCE_FOLDERS = ['cli', 'compiler', 'model', 'protocol', 'report', 'runtime', 'schema', 'sdk', 'targets'];
const GENERATED = new Set(['schema/composition.validate.mjs', 'schema/composition.validate.d.mts']);

/** What each folder may import besides itself and node:* (a bare package name counts as "npm"). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  cli: ['compiler', 'model', 'protocol', 'report', 'runtime', 'schema', 'targets', 'npm', 'package.json'],
  compiler: ['model', 'schema', 'npm'],
  model: ['schema'],
  protocol: ['model', 'schema'],
  report: ['model', 'protocol', 'schema'],
  runtime: ['model', 'protocol', 'schema', 'ws'],
  schema: [],
  sdk: ['model', 'protocol', 'schema'],
  targets: ['compiler', 'model', 'protocol', 'report', 'runtime', 'schema', 'npm'],
};

function walk(dir: string): string[] {
  return readdirSync(join(repoRoot, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(repoRoot, path)).isDirectory())
      return name === 'fixtures' || name === 'generated' ? [] : walk(path);
    return /\.(ts|mts|mjs)$/.test(name) ? [path] : [];
  });
}

const sources = SOURCE_FOLDERS.flatMap(walk).filter((f) => !GENERATED.has(f));

/** Every module specifier a file imports (static, dynamic and `export … from`). */
function specifiers(file: string): string[] {
  // Comment lines are prose (a doc comment may show an import as an example).
  const text = readFileSync(join(repoRoot, file), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l))
    .join('\n');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** A relative specifier as the repository path of the file it names (`.js` written for `.ts`). */
function resolveSpecifier(from: string, spec: string): string {
  const path = normalize(join(dirname(from), spec));
  if (path.endsWith('.js') && !path.startsWith('dist/')) {
    const ts = path.replace(/\.js$/, '.ts');
    if (sources.includes(ts)) return ts;
  }
  return path;
}

const topFolder = (path: string) => path.split('/')[0]!;

const graph = new Map<string, string[]>(
  sources.map((f) => [
    f,
    specifiers(f)
      .filter((s) => s.startsWith('.'))
      .map((s) => resolveSpecifier(f, s)),
  ]),
);

test('layers: each folder imports only what docs/architecture.md allows it', () => {
  const violations: string[] = [];
  for (const file of sources) {
    const own = topFolder(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith('node:')) continue;
      // A bare package is "npm", unless a folder may import that one package only (runtime: ws).
      const kind = spec.startsWith('.')
        ? topFolder(resolveSpecifier(file, spec))
        : ALLOWED[own]!.includes(spec)
          ? spec
          : 'npm';
      if (kind !== own && !ALLOWED[own]!.includes(kind)) violations.push(`${file} imports ${spec} (${kind})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('layers: nothing imports cli/', () => {
  const importers = [...graph].filter(
    ([f, deps]) => topFolder(f) !== 'cli' && deps.some((d) => topFolder(d) === 'cli'),
  );
  assert.deepEqual(
    importers.map(([f]) => f),
    [],
  );
});

/** Tarjan's strongly connected components: each component of two or more files (or a self-import) is a cycle. */
function findCycles(g: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1 || g.get(v)!.includes(v)) cycles.push(component.sort());
    }
  };
  for (const f of g.keys()) if (!indices.has(f)) visit(f);
  return cycles;
}

test('layers: no import cycle among the source files', () => {
  assert.deepEqual(findCycles(graph), []);
});

test('layers: the checks catch a planted cycle and a planted violation', () => {
  // The rules must be able to fail: a loop of three files and a self-import are cycles, a
  // chain is not; a runtime file importing the compiler breaks the layering.
  const planted = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['d.ts']],
    ['e.ts', ['a.ts']],
  ]);
  assert.deepEqual(findCycles(planted), [['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
  assert.equal(topFolder(resolveSpecifier('runtime/agent/main.ts', '../../compiler/pipeline.js')), 'compiler');
  assert.ok(!ALLOWED.runtime!.includes('compiler'));
  assert.ok(graph.size > 50, `read ${graph.size} files`);
});

test('sizes: no TypeScript file over 400 lines, no line over 120 characters', () => {
  const files = [...sources, ...['test', 'bench', 'scripts'].flatMap(walk)];
  const long: string[] = [];
  for (const f of files) {
    const lines = readFileSync(join(repoRoot, f), 'utf8').split('\n');
    if (lines.length > 401 && /\.ts$/.test(f)) long.push(`${f}: ${lines.length - 1} lines`);
    lines.forEach((l, i) => {
      if (l.length > 120) long.push(`${f}:${i + 1}: ${l.length} characters`);
    });
  }
  assert.deepEqual(long, []);
});
