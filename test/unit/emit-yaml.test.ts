import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { emitYaml } from '../../targets/k8s/emit-yaml.js';
import { prng } from '../support/helpers.js';

// Pieces YAML treats specially: indicators, comments, quotes, escapes, line breaks, look-alikes
// of other types, and what the other targets escape for their own interpreters.
const PIECES = [
  'a',
  'Z',
  '0',
  '1.5',
  ' ',
  ':',
  ': ',
  '#',
  ' #',
  '-',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ',',
  "'",
  '"',
  '\\',
  '\n',
  '\t',
  '\r',
  '$(X)',
  '${x}',
  '%{',
  '{{',
  'é',
  '🎉',
  '\u0001',
  '\u007f',
  '\u0085',
  '\u2028',
  '\ufeff',
  'true',
  'null',
  'yes',
  'no',
  '~',
  '0x1F',
  '1e3',
  '*',
  '&',
  '!',
  '|',
  '>',
  '@',
  '`',
  '?',
  '%',
  '  ',
  '---',
  '...',
];

test(
  'emitYaml: 20,000 random documents of tricky strings, numbers, booleans, ' + 'lists and maps parse back identical',
  () => {
    const random = prng(20261125);
    const n = (k: number) => Math.floor(random() * k);
    const str = () => Array.from({ length: n(6) }, () => PIECES[n(PIECES.length)]).join('');
    const value = (depth: number): unknown => {
      const kind = n(depth > 2 ? 3 : 6);
      if (kind === 0) return str();
      if (kind === 1) return n(100000) - 50000;
      if (kind === 2) return n(2) === 0;
      if (kind === 3) return Array.from({ length: n(4) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n(4); i++) o[str() || 'k'] = value(depth + 1);
      return o;
    };
    for (let i = 0; i < 20000; i++) {
      const doc = { root: value(0) };
      const text = emitYaml(doc);
      assert.deepEqual(parse(text), doc, text);
    }
  },
);

test('emitYaml: the house style: block collections, plain strings where unambiguous, | for multi-line text', () => {
  assert.equal(
    emitYaml({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', labels: {} },
      data: { 'a.mjs': 'line 1\nline 2\n', port: '5050' },
      list: [{ name: 'A', value: 'a: b' }, 'plain'],
      empty: [],
    }),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {}\ndata:\n  a.mjs: |\n    line 1\n    line ' +
      '2\n  port: "5050"\nlist:\n  - name: A\n    value: "a: b"\n  - plain\nempty: []\n',
  );
});
