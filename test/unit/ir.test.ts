import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from '@iarna/toml';
import type { Composition } from '../../schema/composition.js';
import { deepFreeze } from '../../compiler/deep-freeze.js';
import { normalize } from '../../compiler/normalize.js';
import { compileFile } from '../../compiler/pipeline.js';
import { repoRoot } from '../support/helpers.js';

const full = join(repoRoot, 'test/fixtures/valid/full/plan.toml');

function everyObject(v: unknown, visit: (o: object, path: string) => void, path = ''): void {
  if (v !== null && typeof v === 'object') {
    visit(v, path);
    for (const [k, child] of Object.entries(v)) everyObject(child, visit, `${path}/${k}`);
  }
}

test('the IR is deeply frozen', () => {
  const { plan } = compileFile(full);
  assert.ok(plan);
  let objects = 0;
  everyObject(plan, (o, path) => {
    objects++;
    assert.ok(Object.isFrozen(o), `not frozen: ${path || '/'}`);
  });
  assert.ok(objects > 20);
  assert.throws(() => {
    (plan.groups[0]!.params as Record<string, unknown>).level = 'changed';
  }, TypeError);
  assert.throws(() => {
    (plan.groups as unknown[]).push({});
  }, TypeError);
});

test('normalize does not mutate its input', () => {
  const input = JSON.parse(JSON.stringify(parse(readFileSync(full, 'utf8')))) as Composition;
  const before = structuredClone(input);
  const plan = normalize(input);
  assert.deepEqual(input, before);
  // A frozen input would make any write throw in strict mode.
  assert.doesNotThrow(() => normalize(deepFreeze(structuredClone(before))));
  // The IR shares nothing mutable with the input.
  (input.groups[0]!.params as Record<string, unknown>).level = 'mutated later';
  assert.equal(plan.groups[0]!.params.level, 'group');
});

test('normalize is deterministic', () => {
  const a = compileFile(full).plan;
  const b = compileFile(full).plan;
  assert.deepEqual(a, b);
});
