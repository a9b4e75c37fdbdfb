import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileFile } from '../../compiler/pipeline.js';
import { stableStringify } from '../../cli/stable-stringify.js';
import { linkShape, planEgress } from '../../model/egress-plan.js';
import { repoRoot } from '../support/helpers.js';

const dir = join(repoRoot, 'test/fixtures/egress');

for (const name of readdirSync(dir).sort()) {
  test(`egress golden: ${name}`, () => {
    const { plan, diagnostics } = compileFile(join(dir, name, 'plan.toml'));
    assert.ok(plan, JSON.stringify(diagnostics.items));
    const got = stableStringify(plan.groups.map((g) => planEgress(plan, g.id))) + '\n';
    assert.equal(
      got,
      readFileSync(join(dir, name, 'egress.json'), 'utf8'),
      `test/fixtures/egress/${name}/egress.json is stale: npm run accept and review`,
    );
  });
}

test('precedence: a→b over a→* over *→b over the group over *→* over [network], field by field', () => {
  const { plan } = compileFile(join(dir, 'precedence/plan.toml'));
  assert.ok(plan);
  assert.deepEqual(linkShape(plan, 'a', 'b'), { latencyMs: 6, lossPct: 1, jitterMs: 1, bandwidthBps: 10_000_000 });
  assert.deepEqual(linkShape(plan, 'a', 'c'), { latencyMs: 5, lossPct: 1, jitterMs: 1, bandwidthBps: 10_000_000 });
  assert.deepEqual(linkShape(plan, 'c', 'b'), { latencyMs: 4, lossPct: 1 });
  assert.deepEqual(linkShape(plan, 'c', 'a'), { latencyMs: 3, lossPct: 1 });
  assert.deepEqual(linkShape(plan, 'b', 'a'), { latencyMs: 2, lossPct: 1 });
  // A mid-run override goes on top of everything.
  assert.deepEqual(linkShape(plan, 'a', 'b', { latencyMs: 0, blocked: true }), {
    latencyMs: 0,
    lossPct: 1,
    jitterMs: 1,
    bandwidthBps: 10_000_000,
    blocked: true,
  });
});

test('partitions: one way, both ways, and a specific rule lifting a wider block', () => {
  const { plan } = compileFile(join(dir, 'partitions/plan.toml'));
  assert.ok(plan);
  assert.equal(linkShape(plan, 'left', 'right').blocked, true);
  assert.equal(linkShape(plan, 'right', 'left').blocked, undefined, 'one way only');
  assert.equal(linkShape(plan, 'left', 'island').blocked, true);
  assert.equal(linkShape(plan, 'island', 'left').blocked, true);
  assert.equal(linkShape(plan, 'left', 'vault').blocked, true);
  assert.deepEqual(linkShape(plan, 'right', 'vault'), { blocked: false, latencyMs: 10 });
});
