import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { sortDiagnostics } from '../../compiler/diagnostics.js';
import { compileFile } from '../../compiler/pipeline.js';
import { repoRoot, tempDir } from '../support/helpers.js';

interface Expected {
  code: string;
  line: number | null;
  col: number | null;
}
interface Case {
  name: string;
  file: string;
  input?: string;
  generate?:
    | 'binary'
    | 'bad-utf8'
    | 'large'
    | 'missing'
    | 'directory'
    | 'deep-toml'
    | 'deep-yaml'
    | 'deep-block'
    | 'deep-block-in-flow';
  expect: Expected[];
  suggests?: string;
  compiles?: boolean;
}

const cases: Case[] = parse(readFileSync(join(repoRoot, 'test/fixtures/invalid/cases.yaml'), 'utf8'));
const root = tempDir();

/** Writes the case's input where `compileFile` will read it; returns the path to give it. */
function materialize(c: Case, dir: string): string {
  const path = join(dir, c.file);
  switch (c.generate) {
    case 'binary':
      writeFileSync(
        path,
        Buffer.concat([Buffer.from('version = 1\nname = "x"\n'), Buffer.from([0, 1, 2, 0xff, 0xfe])]),
      );
      break;
    case 'bad-utf8':
      writeFileSync(
        path,
        Buffer.concat([Buffer.from('version = 1\nname = "caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"\n')]),
      );
      break;
    case 'large': {
      const line = `# ${'x'.repeat(1021)}\n`;
      writeFileSync(path, 'version = 1\n' + line.repeat(20 * 1024));
      break;
    }
    case 'deep-toml':
      writeFileSync(path, `version = 1\nname = "d"\nparams = { a = ${'['.repeat(5000)}1${']'.repeat(5000)} }\n`);
      break;
    case 'deep-yaml':
      writeFileSync(path, `version: 1\nname: d\nparams: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}\n`);
      break;
    case 'deep-block':
      // Each line a mapping inside the one above: 2,000 levels, one space further each.
      writeFileSync(
        path,
        'version: 1\nname: d\nparams:\n' +
          Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i + 1)}k:\n`).join('') +
          '  1\n',
      );
      break;
    case 'deep-block-in-flow':
      // Found by npm run fuzz: block-style lines, deeper and deeper, inside a flow sequence.
      writeFileSync(path, '[' + Array.from({ length: 2300 }, (_, i) => `${' '.repeat(i)}k${i}:\n`).join('') + ']\n');
      break;
    case 'missing':
      break;
    case 'directory':
      mkdirSync(path);
      break;
    default:
      writeFileSync(path, c.input ?? '');
  }
  return path;
}

test('there are at least 40 invalid fixtures', () => {
  assert.ok(cases.filter((c) => c.expect.length > 0).length >= 40, `only ${cases.length} cases`);
});

cases.forEach((c, i) => {
  test(`invalid fixture: ${c.name}`, () => {
    const dir = join(root, String(i));
    mkdirSync(dir);
    const result = compileFile(materialize(c, dir));
    const got = sortDiagnostics(result.diagnostics.items).map((d) => ({
      code: d.code,
      line: d.line ?? null,
      col: d.col ?? null,
    }));
    assert.deepEqual(
      got,
      c.expect,
      `diagnostics:\n${result.diagnostics.items.map((d) => `  ${d.line}:${d.col} ${d.code} ${d.message}`).join('\n')}`,
    );
    if (c.expect.length === 0 || c.compiles) assert.ok(result.plan, 'a case with no errors compiles to a plan');
    else assert.equal(result.plan, undefined, 'no plan comes out of an invalid input');
    if (c.suggests)
      assert.ok(
        result.diagnostics.items.some((d) => d.message.includes(`did you mean "${c.suggests}"?`)),
        `suggests ${c.suggests}`,
      );
  });
});
