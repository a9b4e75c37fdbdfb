import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/helpers.js';

const bin = join(repoRoot, 'dist/tgc.mjs');

/** Every valid fixture and every example: a plan.toml and its plan.yaml twin. */
const twins = [
  ...readdirSync(join(repoRoot, 'test/fixtures/valid')).map((d) => join('test/fixtures/valid', d)),
  ...readdirSync(join(repoRoot, 'examples')).map((d) => join('examples', d)),
].filter((dir) => existsSync(join(repoRoot, dir, 'plan.toml')) && existsSync(join(repoRoot, dir, 'plan.yaml')));

const planJsonOf = (file: string): string =>
  execFileSync(process.execPath, [bin, 'plan', '--json', file], { cwd: repoRoot, encoding: 'utf8' });

test('there are valid twins to compare', () => {
  assert.ok(twins.length >= 5, twins.join(', '));
});

for (const dir of twins) {
  test(`${dir}: plan.toml and plan.yaml give byte-identical tgc plan --json`, () => {
    const fromToml = planJsonOf(join(dir, 'plan.toml'));
    const fromYaml = planJsonOf(join(dir, 'plan.yaml'));
    assert.equal(fromYaml, fromToml);
    const golden = join(repoRoot, dir, 'plan.json');
    if (existsSync(golden))
      assert.equal(
        fromToml,
        readFileSync(golden, 'utf8'),
        `${dir}/plan.json is stale: run npm run accept and review the diff`,
      );
  });
}

test('params keep their types and bytes end to end', () => {
  const out = JSON.parse(planJsonOf('test/fixtures/valid/params-types/plan.yaml'));
  const p = out.plan.groups[0].params;
  assert.equal(p.integer, 42);
  assert.equal(p.float, 3.25);
  assert.equal(p.yes, true);
  assert.equal(p.dollar, '$HOME and ${PATH} and $$');
  assert.equal(p.braces, '{{ .Foo }} {{{raw}}} %{ if x }');
  assert.equal(p.newlines, 'line one\nline two\n');
  assert.equal(p.unicode, 'héllo wörld ✓ 日本 🚀');
  assert.deepEqual(p.list, [1, 'two', 3.5, true, [4, 5], { six: 6 }]);
  assert.equal(p.nested['dotted.key'], 1);
});

test('params merge group > defaults > top level, key by key', () => {
  const out = JSON.parse(planJsonOf('test/fixtures/valid/full/plan.toml'));
  const [clients, servers] = out.plan.groups;
  assert.deepEqual(clients.params, { from_defaults: true, level: 'group', only_top: 1, rate: 1.5, shared: 'top' });
  assert.deepEqual(servers.params, { from_defaults: true, level: 'defaults', only_top: 1, shared: 'top' });
  assert.deepEqual(clients.env, { FAST: 'true', LOG_LEVEL: 'debug', RETRIES: '3', ROLE: 'client' });
  assert.equal(servers.image, 'example/server:2.0');
  assert.equal(out.plan.groups[2].image, undefined, 'a group with build inherits no image');
  assert.equal(out.plan.groups[2].build.args.DEBUG, 'false');
});

test('percentages use the largest remainder rule', () => {
  const out = JSON.parse(planJsonOf('test/fixtures/valid/percentages/plan.toml'));
  assert.deepEqual(
    out.plan.groups.map((g: { instances: number }) => g.instances),
    [2, 4, 3, 3],
  );
  assert.deepEqual(
    out.plan.groups.map((g: { firstIndex: number }) => g.firstIndex),
    [0, 2, 6, 9],
  );
  assert.equal(out.instances.length, 12);
  assert.equal(out.instances[11].name, 'c-2');
});
