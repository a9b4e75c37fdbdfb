// The Go text/template interpreter, case by case (test/fixtures/go-template/cases.yaml).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderTemplate, sourceOffset } from '../../compiler/testground/go-template-exec.js';
import { TemplateError } from '../../compiler/testground/go-template-parse.js';
import { stringMap } from '../../compiler/testground/go-template-values.js';
import { testgroundFuncs } from '../../compiler/testground/testground-funcs.js';
import { repoRoot } from '../support/helpers.js';

const dir = join(repoRoot, 'test/fixtures/go-template');
interface Case {
  name: string;
  template: string;
  env?: Record<string, string>;
  expect?: string;
  error?: string;
}
const cases = parse(readFileSync(join(dir, 'cases.yaml'), 'utf8')) as Case[];

function render(c: Case): string {
  const env = stringMap(c.env ?? {});
  return renderTemplate(c.template, { Env: env }, testgroundFuncs(dir, env)).text;
}

for (const c of cases) {
  test(`go template: ${c.name}`, () => {
    if (c.error !== undefined) {
      assert.throws(
        () => render(c),
        (err: unknown) => err instanceof TemplateError && err.message.includes(c.error!),
      );
    } else assert.equal(render(c), c.expect);
  });
}

test('go template: output offsets map back to the template (copied text exactly, actions to their start)', () => {
  const src = 'a = 1\n{{ if true }}\nb = "{{ .Env.X }}"\n{{ end }}c = 3\n';
  const r = renderTemplate(src, { Env: stringMap({ X: 'xyz' }) });
  assert.equal(r.text, 'a = 1\n\nb = "xyz"\nc = 3\n');
  assert.equal(sourceOffset(r, r.text.indexOf('b =')), src.indexOf('b ='));
  assert.equal(sourceOffset(r, r.text.indexOf('xyz') + 1), src.indexOf('{{ .Env.X }}'));
  assert.equal(sourceOffset(r, r.text.indexOf('c = 3')), src.indexOf('c = 3'));
});

test('go template: errors carry the offset of the action at fault', () => {
  const src = 'a\nb {{ nope 1 }}';
  assert.throws(
    () => renderTemplate(src, {}),
    (err: unknown) => err instanceof TemplateError && err.offset === src.indexOf('nope'),
  );
});
