import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/helpers.js';

test('the committed ahead-of-time validator is what the schema generates now (npm run generate)', async () => {
  const generator: string = join(repoRoot, 'scripts/validator-code.mjs');
  const { validatorCode } = (await import(generator)) as { validatorCode: () => string };
  const committed = readFileSync(join(repoRoot, 'schema/composition.validate.mjs'), 'utf8');
  assert.ok(
    committed === validatorCode(),
    'schema/composition.validate.mjs is stale: run npm run generate and commit it',
  );
});

test('the schema documents every key it allows', () => {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'schema/composition.schema.json'), 'utf8'));
  const undocumented: string[] = [];
  const visit = (node: unknown, path: string): void => {
    if (node === null || typeof node !== 'object') return;
    const props = (node as { properties?: Record<string, { description?: string; $ref?: string }> }).properties;
    for (const [key, sub] of Object.entries(props ?? {})) {
      const ref = sub.$ref?.replace('#/definitions/', '').split('/');
      const target = ref
        ? ref.reduce<Record<string, unknown> | undefined>(
            (o, k) => o?.[k] as Record<string, unknown> | undefined,
            schema.definitions,
          )
        : undefined;
      if (!sub.description && !(target && 'description' in target)) {
        undocumented.push(`${path}.${key}`);
      }
    }
    for (const [k, v] of Object.entries(node)) visit(v, `${path}.${k}`);
  };
  visit(schema, '');
  assert.deepEqual(undocumented, []);
});

test('docs/diagnostics.md lists every diagnostic code with its meaning', async () => {
  const { codes } = await import('../../compiler/codes.js');
  const doc = readFileSync(join(repoRoot, 'docs/diagnostics.md'), 'utf8');
  const listed = [...doc.matchAll(/^\| `([A-Z_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(listed, Object.entries(codes));
});
