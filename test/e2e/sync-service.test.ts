// Testground test plans (sdk-go's frames: test/clients/sdkgo-frames.mjs) in real runs: sharing a
// barrier and a topic with TypeScript SDK instances on the local target and on compose, asking
// for network changes, and reporting outcomes through run events.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { dockerSkipReason } from '../support/docker-lab.js';
import { checkJunitSchema, repoRoot, results, tempDir, tgcRun } from '../support/helpers.js';
import { netSkipReason } from '../support/net-lab.js';

const clients = join(repoRoot, 'test/clients');

/** A plan of groups running the given commands, with the case sdk-go keys its states by. */
function plan(
  groups: { id: string; n: number; command: string[]; mode?: string; image?: string }[],
  extra = '',
): string {
  const file = join(tempDir('tgc-sync-'), 'plan.toml');
  writeFileSync(
    file,
    `version = 1\nname = "sync"\n[run]\ntimeout = "2m"\n[testground]\ncase = "sync"\n${extra}` +
      groups
        .map(
          (g) =>
            `[[groups]]\nid = "${g.id}"\ninstances = ${g.n}\ncommand = ${JSON.stringify(g.command)}\n` +
            (g.image ? `image = "${g.image}"\n` : '') +
            (g.mode ? `params = { mode = "${g.mode}" }\n` : ''),
        )
        .join(''),
  );
  return file;
}

function checkMixed(out: string) {
  const res = results(out);
  assert.equal(res.outcome, 'success', res.reason);
  for (const i of res.instances) {
    assert.equal(i.outcome, 'success', i.name);
    assert.deepEqual(i.messages, ['peers: go,go,ts,ts'], i.name);
  }
}

test(
  'mixed run, local target: TypeScript SDK and sdk-go instances share a barrier and a topic, all report outcomes',
  { skip: netSkipReason(), timeout: 120_000 },
  async () => {
    const r = await tgcRun(
      plan([
        { id: 'ts', n: 2, command: ['node', join(clients, 'ts-mixed.mjs')] },
        { id: 'go', n: 2, command: ['node', join(clients, 'sdkgo-frames.mjs')], mode: 'mixed' },
      ]),
    );
    assert.equal(r.code, 0, r.said);
    checkMixed(r.out);
  },
);

test('mixed run, compose: the same, in containers', { skip: dockerSkipReason(), timeout: 300_000 }, async () => {
  // The two programs bundled (ws and the SDK inside) into an image of their own.
  const ctx = tempDir('tgc-sync-image-');
  await build({
    entryPoints: [join(clients, 'sdkgo-frames.mjs'), join(clients, 'ts-mixed.mjs')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outdir: ctx,
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM tgc-examples:latest\nCOPY *.js /app/\n');
  const image = 'tgc-test-sync:latest';
  const built = spawnSync('docker', ['build', '-q', '-t', image, ctx], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const r = await tgcRun(
    plan([
      { id: 'ts', n: 2, command: ['node', '/app/ts-mixed.js'], image },
      { id: 'go', n: 2, command: ['node', '/app/sdkgo-frames.js'], mode: 'mixed', image },
    ]),
    ['--target', 'compose'],
  );
  assert.equal(r.code, 0, r.said);
  checkMixed(r.out);
});

test(
  'network:<hostname>: 100 ms each way is a 200 ms ping; then enable = false cuts the link',
  { skip: netSkipReason(), timeout: 120_000 },
  async () => {
    const r = await tgcRun(
      plan([{ id: 'go', n: 2, command: ['node', join(clients, 'sdkgo-frames.mjs')], mode: 'netem' }]),
    );
    assert.equal(r.code, 0, r.said);
    const res = results(r.out);
    for (const i of res.instances) {
      const rtt = Number(/^rtt_ms ([\d.]+)$/.exec(i.messages[0])?.[1]);
      assert.ok(rtt >= 195 && rtt <= 205, `${i.name}: ${i.messages.join('; ')}`);
      assert.equal(i.messages[1], 'after cut ', 'no reply once cut');
      const applied = res.timeline.filter((e: any) => e.event === 'configure' && e.instance === i.name);
      assert.deepEqual(
        applied.map((e: any) => [e.shape.latency, e.shape.blocked]),
        [
          ['100ms', false],
          ['0ms', true],
        ],
      );
    }
  },
);

test(
  'outcomes from run events: a failure keeps its error, a crash its stack, an exit without any event is a crash',
  { timeout: 120_000 },
  async (t) => {
    const frames = join(clients, 'sdkgo-frames.mjs');
    for (const [mode, outcome, reason] of [
      ['fail', 'failure', /^failing as asked$/],
      [
        'crash',
        'crash',
        /^runtime error: index out of range \[3\] with length 3\ngoroutine 1 \[running\]:\nmain\.run\(\)/,
      ],
      ['silent', 'crash', /^exited with code 0 without reporting an outcome/],
    ] as const) {
      const r = await tgcRun(plan([{ id: 'go', n: 1, command: ['node', frames], mode }]), ['--no-shaping']);
      assert.equal(r.code, 1, r.stderr);
      const res = results(r.out);
      assert.equal(res.instances[0].outcome, outcome, mode);
      assert.match(res.instances[0].reason, reason, mode);
      const junit = readFileSync(join(r.out, 'junit.xml'), 'utf8');
      assert.match(
        junit,
        outcome === 'crash' ? /<error type="crash"/ : /<failure type="failure" message="failing as asked"/,
      );
      if (mode === 'crash') assert.match(junit, /main\.go:42/);
      await checkJunitSchema(t, join(r.out, 'junit.xml'));
    }
  },
);

test('no init context: printed events are no outcome (Testground’s rule); results.out in the metrics', async () => {
  const frames = join(clients, 'sdkgo-frames.mjs');
  const good = await tgcRun(plan([{ id: 'go', n: 2, command: ['node', frames], mode: 'plain' }]), ['--no-shaping']);
  assert.equal(good.code, 1, good.stderr + good.stdout);
  const res = results(good.out);
  for (const i of res.instances) {
    assert.deepEqual([i.outcome, i.reason], ['failure', 'printed success_event on stdout but sent no run event']);
    assert.deepEqual([i.metrics.lat.count, i.metrics.lat.mean, i.metrics.lat.min, i.metrics.lat.max], [3, 7, 5, 9]);
    assert.equal(i.diagnostics.gc.last, 1, 'diagnostics.out apart from the metrics');
    assert.equal(i.metrics.gc, undefined);
  }
  assert.equal(res.groups.go.metrics.lat.count, 6);
  const bad = await tgcRun(plan([{ id: 'go', n: 1, command: ['node', frames], mode: 'plain-fail' }]), ['--no-shaping']);
  assert.equal(bad.code, 1);
  const r = results(bad.out).instances[0];
  assert.deepEqual(
    [r.outcome, r.reason],
    ['failure', 'printed failure_event (plain failure) on stdout but sent no run event'],
  );
});
