// Testground compositions run as they are: the environment Testground programs read, on the
// local target and on compose; Go plans built with go build (exec:go); [[runs]] one after another.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestImage, dockerSkipReason } from '../support/docker-lab.js';
import { bin, repoRoot, results, tempDir } from '../support/helpers.js';
import { netSkipReason } from '../support/net-lab.js';

const envdump = join(repoRoot, 'test/clients/tg-envdump.sh');

/** `tgc ARGS` in a child process with extra environment; resolves when it exits. */
function tgc(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A composition (with its manifest) whose artifact comes from the environment: a program or an image. */
function envcheck(): string {
  const dir = tempDir('tgc-tg-');
  writeFileSync(
    join(dir, 'manifest.toml'),
    'name = "envcheck"\n[builders."exec:go"]\n[runners."local:exec"]\n[runners."local:docker"]\n' +
      '[[testcases]]\nname = "dump"\ninstances = { min = 1, max = 10 }\n' +
      '  [testcases.params]\n  rounds = { type = "int", default = 3 }\n',
  );
  writeFileSync(
    join(dir, 'composition.toml'),
    `[metadata]
name = "envcheck"

[global]
plan = "envcheck"
case = "dump"
builder = "exec:go"
runner = "local:exec"
total_instances = 3

[global.run_config]
exposed_ports = { pprof = "6060" }

[global.run.test_params]
greeting = "hello world"

[[groups]]
id = "alpha"
instances = { count = 2 }
  [groups.run]
  artifact = "{{ .Env.TG_ARTIFACT }}"
  [groups.run.profiles]
  cpu = "5s"

[[groups]]
id = "beta"
instances = { count = 1 }
  [groups.run]
  artifact = "{{ .Env.TG_ARTIFACT }}"
  [groups.run.test_params]
  json = '{"a": [1, 2]}'
`,
  );
  return join(dir, 'composition.toml');
}

function envOf(out: string, instance: string): Record<string, string> {
  const text = readFileSync(join(out, 'outputs', instance, 'env.txt'), 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** What every instance of the envcheck composition must see, whatever the target. */
function checkEnv(out: string, target: 'local' | 'compose', t0: number) {
  const res = results(out);
  assert.equal(res.outcome, 'success');
  for (const [instance, group, count, params, profiles] of [
    ['alpha-0', 'alpha', '2', ['greeting=hello world', 'rounds=3'], 'cpu=5s'],
    ['alpha-1', 'alpha', '2', ['greeting=hello world', 'rounds=3'], 'cpu=5s'],
    ['beta-0', 'beta', '1', ['greeting=hello world', 'json={"a": [1, 2]}', 'rounds=3'], ''],
  ] as const) {
    const env = envOf(out, instance);
    const [host, port] = [env.TGC_COORDINATOR!.split(':')[0], env.TGC_COORDINATOR!.split(':')[1]];
    assert.deepEqual(
      {
        ...env,
        TEST_INSTANCE_PARAMS: env.TEST_INSTANCE_PARAMS!.split('|').sort(),
        TEST_START_TIME: undefined,
        TGC_COORDINATOR: undefined,
      },
      {
        PPROF_PORT: '6060',
        SYNC_SERVICE_HOST: host,
        SYNC_SERVICE_PORT: port,
        TEST_BRANCH: '',
        TEST_CAPTURE_PROFILES: profiles,
        TEST_CASE: 'dump',
        TEST_DISABLE_METRICS: 'false',
        TEST_GROUP_ID: group,
        TEST_GROUP_INSTANCE_COUNT: count,
        TEST_INSTANCE_COUNT: '3',
        TEST_INSTANCE_PARAMS: [...params].sort(),
        TEST_INSTANCE_ROLE: '',
        TEST_OUTPUTS_PATH: target === 'local' ? join(out, 'outputs', instance) : '/tgc/outputs',
        TEST_PLAN: 'envcheck',
        TEST_REPO: '',
        TEST_RUN: res.run_id,
        TEST_SIDECAR: 'true',
        TEST_START_TIME: undefined,
        TEST_SUBNET: '198.18.0.0/16',
        TEST_TAG: '',
        TEST_TEMP_PATH: target === 'local' ? join(out, 'temp', instance) : '/tmp',
        TGC_COORDINATOR: undefined,
      },
      instance,
    );
    // RFC 3339, within the run.
    const start = Date.parse(env.TEST_START_TIME!);
    assert.match(env.TEST_START_TIME!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(start >= Math.floor(t0 / 1000) * 1000 && start <= Date.now(), env.TEST_START_TIME);
    if (target === 'local') assert.ok(existsSync(env.TEST_TEMP_PATH!), 'the temp directory exists');
  }
}

test(
  'a Testground composition on the local target (runner local:exec, a shell script artifact): every variable',
  { skip: netSkipReason(), timeout: 120_000 },
  async () => {
    const out = join(tempDir('tgc-tg-run-'), 'run');
    const t0 = Date.now();
    const r = await tgc(['run', envcheck(), '--out', out], { TG_ARTIFACT: envdump });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /target local/);
    checkEnv(out, 'local', t0);
  },
);

test(
  'the same composition with --target compose and an image artifact: every variable, on Docker',
  { skip: dockerSkipReason(), timeout: 300_000 },
  async () => {
    const image = 'tgc-test-tg-envdump:latest';
    buildTestImage(image, { [envdump]: '/app/tg-envdump.sh' }, ['/app/tg-envdump.sh']);
    const out = join(tempDir('tgc-tg-run-'), 'run');
    const t0 = Date.now();
    const r = await tgc(['run', envcheck(), '--target', 'compose', '--out', out], { TG_ARTIFACT: image });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    checkEnv(out, 'compose', t0);
  },
);

const goSkip = spawnSync('go', ['version']).error ? 'needs go (apt-get install golang-go; CI installs it)' : undefined;

test(
  'exec:go: a standard-library Go plan under a manifest is built with go build and runs',
  { skip: netSkipReason() ?? goSkip, timeout: 180_000 },
  async () => {
    const plan = tempDir('tgc-tg-go-');
    cpSync(join(repoRoot, 'test/fixtures/testground/go-plan'), plan, { recursive: true });
    const out = join(tempDir('tgc-tg-run-'), 'run');
    const r = await tgc(['run', join(plan, 'composition.toml'), '--out', out]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const env = readFileSync(join(out, 'outputs/gophers-1/env.txt'), 'utf8');
    assert.match(env, /^TEST_CASE=hello$/m);
    assert.match(env, /^TEST_GROUP_ID=gophers$/m);
    assert.match(env, /^TEST_INSTANCE_PARAMS=greeting=hi$/m);
    const program =
      /build: gophers: go build → (\S+)/.exec(r.stderr)?.[1] ?? /build: gophers cached \((\S+)\)/.exec(r.stderr)?.[1];
    assert.ok(program && existsSync(program), `the program was built into .tgc/build: ${r.stderr}`);
  },
);

test('exec:go without go on PATH: exit 3 with the fix, nothing left behind', async () => {
  const out = join(tempDir('tgc-tg-run-'), 'run');
  const r = await tgc(
    ['run', join(repoRoot, 'test/fixtures/testground/go-plan/composition.toml'), '--no-shaping', '--out', out],
    { PATH: '/nonexistent' },
  );
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /group "gophers" is built with go build, and go is not on PATH: apt-get install golang-go/);
  assert.ok(!existsSync(out), 'no run directory');
});

test('[[runs]]: tgc run runs each in id order, the exit code is the worst; --run picks one', async () => {
  const dir = tempDir('tgc-tg-runs-');
  const file = join(dir, 'composition.toml');
  writeFileSync(
    file,
    `[global]
plan = "two"
case = "c"
builder = "exec:go"
runner = "local:exec"

[[groups]]
id = "good"
  [groups.run]
  artifact = "${envdump}"

[[groups]]
id = "bad"
  [groups.run]
  artifact = "/bin/false"

[[runs]]
id = "z-bad"
total_instances = 1
  [[runs.groups]]
  id = "bad"
  instances = { count = 1 }

[[runs]]
id = "a-good"
total_instances = 2
  [[runs.groups]]
  id = "good"
  instances = { count = 2 }
`,
  );
  const out = join(dir, 'out');
  const all = await tgc(['run', file, '--no-shaping', '--out', out]);
  assert.equal(all.code, 1, all.stderr);
  const order = [...all.stderr.matchAll(/run \d of 2: the composition's run "([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(order, ['a-good', 'z-bad']);
  assert.equal(results(join(out, 'a-good')).outcome, 'success');
  assert.equal(results(join(out, 'z-bad')).outcome, 'failure');
  const one = await tgc(['run', file, '--no-shaping', '--run', 'a-good', '--out', join(dir, 'one')]);
  assert.equal(one.code, 0, one.stderr);
  const plan = await tgc(['plan', file]);
  assert.equal(plan.code, 2);
  assert.match(plan.stderr, /the composition has 2 runs \(a-good, z-bad\): pick one with --run ID/);
});
