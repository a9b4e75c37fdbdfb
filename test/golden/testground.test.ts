// Testground compositions as real projects write them (test/fixtures/testground/valid/*): each
// validates, and gives the instance counts and params worked out by hand in its expected.yaml;
// `tgc convert` of each gives the same plan. Invalid ones (invalid/cases.yaml): exit 2 at the
// right place with Testground's reason.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { compileFile } from '../../compiler/pipeline.js';
import { planJson } from '../../cli/format-plan.js';
import { repoRoot, runCli, tempDir } from '../support/helpers.js';

const validDir = join(repoRoot, 'test/fixtures/testground/valid');

interface ExpectedGroup {
  instances: number;
  params: Record<string, string>;
  command?: string[];
  image?: string;
  build?: {
    context: string;
    kind?: string;
    dockerfile?: string;
    context_prefix?: string;
    base_image?: string;
    args?: Record<string, string>;
    go?: Record<string, unknown>;
  };
  group_id?: string;
  profiles?: Record<string, string>;
}
interface Expected {
  composition?: string;
  env?: Record<string, string>;
  warnings?: string[];
  runs: Record<string, { name: string; plan?: string; case: string; groups: Record<string, ExpectedGroup> }>;
}

/** The CLI in-process with an environment of its own (for templates' .Env). */
const cli = (argv: string[], env: Record<string, string> = {}) => runCli(argv, '', env);

for (const name of readdirSync(validDir).sort()) {
  test(`testground composition ${name}: Testground's counts and params; convert gives the same plan`, async () => {
    const expected = parse(readFileSync(join(validDir, name, 'expected.yaml'), 'utf8')) as Expected;
    const file = join(validDir, name, expected.composition ?? 'composition.toml');
    const env = expected.env ?? {};
    const validated = await cli(['validate', file], env);
    assert.equal(validated.code, 0, validated.stderr);
    const runIds = Object.keys(expected.runs).sort();
    for (const run of runIds) {
      const result = compileFile(file, undefined, { testground: { run, env } });
      const errors = result.diagnostics.items.filter((d) => d.severity === 'error');
      assert.deepEqual(errors, []);
      assert.deepEqual(result.testground?.runs, runIds);
      if (expected.warnings) {
        assert.deepEqual(result.diagnostics.items.map((d) => d.code).sort(), [...expected.warnings].sort());
      }
      const plan = result.plan!;
      const want = expected.runs[run]!;
      assert.equal(plan.name, want.name);
      assert.equal(plan.testground?.case, want.case);
      assert.equal(plan.testground?.plan, want.plan ?? want.name);
      assert.equal(plan.testground?.run, run);
      // Testground lets every instance run to its end.
      assert.equal(plan.onFailure, 'continue');
      const groups = Object.fromEntries(
        plan.groups.map((g) => [
          g.id,
          {
            instances: g.instances,
            params: g.params,
            ...(g.command && { command: [...g.command] }),
            ...(g.image && { image: g.image }),
            ...(g.build && {
              build: {
                context: g.build.context,
                ...(g.build.kind && { kind: g.build.kind }),
                ...(g.build.dockerfile && { dockerfile: g.build.dockerfile }),
                ...(g.build.contextPrefix && { context_prefix: g.build.contextPrefix }),
                ...(g.build.baseImage && { base_image: g.build.baseImage }),
                ...(Object.keys(g.build.args).length && { args: g.build.args }),
                ...(g.build.go && { go: g.build.go }),
              },
            }),
            ...(g.testground?.groupId && { group_id: g.testground.groupId }),
            ...(g.testground && Object.keys(g.testground.profiles).length && { profiles: g.testground.profiles }),
          },
        ]),
      );
      assert.deepEqual(groups, want.groups, `run ${run}`);
      assert.equal(
        plan.totalInstances,
        Object.values(want.groups).reduce((n, g) => n + g.instances, 0),
      );

      // tgc convert, then the converted plan (written beside the composition, where its
      // relative paths mean the same) compiles to the same IR.
      const converted = await cli(['convert', file, '--run', run], env);
      assert.equal(converted.code, 0, converted.stderr);
      const copy = join(tempDir('tgc-convert-'), name);
      cpSync(join(validDir, name), copy, { recursive: true });
      const out = join(copy, dirname(expected.composition ?? 'x'), 'converted.toml');
      writeFileSync(out, converted.stdout);
      const again = await cli(['plan', '--json', out]);
      assert.equal(again.code, 0, again.stderr + converted.stdout);
      assert.equal(again.stdout, planJson(plan));
    }
  });
}

interface InvalidCase {
  name: string;
  files: Record<string, string>;
  args?: string[];
  /** The file the diagnostic is in, when not the composition. */
  file?: string;
  code: string;
  line?: number;
  col?: number;
  message?: string;
}

const invalid = parse(
  readFileSync(join(repoRoot, 'test/fixtures/testground/invalid/cases.yaml'), 'utf8'),
) as InvalidCase[];
for (const c of invalid) {
  test(`testground composition, invalid: ${c.name}`, async () => {
    const dir = tempDir('tgc-tg-invalid-');
    for (const [rel, text] of Object.entries(c.files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    const r = await cli(['validate', '--json', join(dir, 'composition.toml'), ...(c.args ?? [])]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const diags = JSON.parse(r.stdout).diagnostics as {
      code: string;
      severity: string;
      line?: number;
      col?: number;
      message: string;
      file: string;
    }[];
    const found = diags.find((d) => d.severity === 'error' && d.code === c.code);
    assert.ok(found, `no ${c.code} in ${JSON.stringify(diags, null, 1)}`);
    if (c.file) assert.equal(found.file, join(dir, c.file));
    if (c.line !== undefined) assert.equal(`${found.line}:${found.col}`, `${c.line}:${c.col}`);
    if (c.message) assert.match(found.message, new RegExp(c.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });
}

test('--format testground reads a composition from stdin; --manifest names a manifest elsewhere', async () => {
  const text = readFileSync(join(validDir, 'quickstart/composition.toml'));
  const { code, stdout, stderr } = await runCli(['validate', '-', '--format', 'testground'], text, {});
  assert.equal(code, 0, stderr);
  assert.match(stdout, /<stdin>: ok \(1 group, 1 instance\)/);
  assert.match(stderr, /warning\[NO_MANIFEST\]/);
  // The same file elsewhere, its manifest named: the case is checked against it.
  const dir = tempDir('tgc-tg-manifest-');
  writeFileSync(join(dir, 'composition.toml'), text);
  const wrong = join(dir, 'other.toml');
  writeFileSync(wrong, 'name = "quickstart"\n[[testcases]]\nname = "other"\n');
  const r = await cli(['validate', join(dir, 'composition.toml'), '--manifest', wrong]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error\[UNKNOWN_CASE\]: the manifest has no test case "hello" \(it has: other\)/);
  const ok = await cli([
    'validate',
    join(dir, 'composition.toml'),
    '--manifest',
    join(validDir, 'quickstart/manifest.toml'),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stderr, '');
});

test("tgc plan lists every group's build: its kind, context and each key set", async () => {
  const r = await cli(['plan', join(validDir, 'builders-all/plan/composition.toml')]);
  assert.equal(r.code, 0, r.stderr);
  const rows = Object.fromEntries(
    r.stdout
      .split('\n')
      .map((l) => /^(go-all|go-defaults|go-fresh|generic|node|exec) +(go|docker|node) +\. +(.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1], `${m[2]} · ${m[3]}`]),
  );
  assert.deepEqual(rows, {
    'go-all':
      'go · base golang:1.21-bookworm · no runtime image · path cmd · package ./node · modfile go.test.mod · cgo · ' +
      'GOPROXY http://proxy.example:3000 · tags a,b · replace example.com/shared => example.com/fork@v2.0.0 · ' +
      'replace example.com/other => example.com/other@v0.3.1 · hooks pre_mod_download,post_mod_download,' +
      'pre_source_copy,post_source_copy,pre_build,post_build,pre_runtime_copy,post_runtime_copy',
    'go-defaults':
      'go · base golang:1.21-bookworm · runtime busybox:1.36-glibc · GOPROXY direct · tags global_tag · ' +
      'replace example.com/shared => example.com/shared@v1.0.0',
    'go-fresh':
      'go · base golang:1.21-bookworm · runtime busybox:1.36-glibc · fresh go.mod example.com/fresh · ' +
      'tags global_tag · replace example.com/shared => example.com/shared@v1.0.0',
    generic:
      'docker · dockerfile plan/docker/Dockerfile · context under plan/ · args FLAVOUR="spicy" PLAN_PATH="elsewhere"',
    node: 'node · base node:20-bookworm',
    exec:
      'go · base golang:1.16-buster · runtime busybox:1.35.0-glibc · package ./exec · ' +
      'fresh go.mod example.com/exec · tags global_tag · replace example.com/shared => example.com/shared@v1.0.0',
  });
});
