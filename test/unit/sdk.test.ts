import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { repoRoot } from '../support/helpers.js';

const program = join(repoRoot, 'test/clients/sdk-run.mjs');

/** Runs the test program as an instance against `port`; resolves to its exit code and stderr. */
function instance(port: number, mode: string, name: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [program, mode], {
      env: {
        PATH: process.env.PATH ?? '',
        TGC_COORDINATOR: `127.0.0.1:${port}`,
        TGC_GROUP: 'g',
        TGC_INSTANCE: name,
        TGC_PARAMS: '{"rounds":3,"label":"$x {{ y }}"}',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d));
    proc.once('exit', (code) => resolve({ code, stderr }));
  });
}

async function coordinator(
  t: { after: (fn: () => unknown) => void },
  instances: number,
): Promise<{ c: Coordinator; port: number }> {
  const c = new Coordinator({ instances });
  const port = await c.listen(0);
  t.after(() => c.close());
  return { c, port };
}

test('run(): success on return, exit 0; params arrive with their types', async (t) => {
  const { c, port } = await coordinator(t, 2);
  const [a, b] = await Promise.all([instance(port, 'succeed', 'g-0'), instance(port, 'succeed', 'g-1')]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const r = await c.ended;
  assert.equal(r.outcome, 'success');
  assert.deepEqual(r.instances[0]!.messages, [
    `hello from ${r.instances[0]!.name}, params {"rounds":3,"label":"$x {{ y }}"}`,
  ]);
  assert.deepEqual(r.groups.g!.metrics.seq!.sum, 3);
});

test('run(): failure on throw, with the error message as the reason; the other instance is stopped', async (t) => {
  const { c, port } = await coordinator(t, 2);
  const waiting = instance(port, 'wait', 'g-1');
  while (c.status().registered !== 1) await new Promise((r) => setTimeout(r, 20));
  const failing = await instance(port, 'fail', 'g-0');
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /g-0 failed: expected 42, got 41/);
  const stopped = await waiting;
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /the run ended before this instance finished/);
  const r = await c.ended;
  assert.deepEqual(r.instances.map((i) => [i.name, i.outcome, i.reason]).sort(), [
    ['g-0', 'failure', 'expected 42, got 41'],
    ['g-1', 'stopped', 'stopped: g-0 failed: expected 42, got 41'],
  ]);
});

test('run(): exiting without an outcome is a crash', async (t) => {
  const { c, port } = await coordinator(t, 1);
  const r = await instance(port, 'exit', 'g-0');
  assert.equal(r.code, 0);
  const results = await c.ended;
  assert.equal(results.instances[0]!.outcome, 'crash');
  assert.equal(results.outcome, 'failure');
});

test('run(): no coordinator to reach is a clear error, not a hang', async () => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const proc = spawn(
      process.execPath,
      [
        '-e',
        `import('${join(repoRoot, 'dist/runtime/sdk.mjs')}').then(m => m.run(() => {}, { connectTimeoutMs: 300 }))`,
      ],
      {
        env: { PATH: process.env.PATH ?? '', TGC_COORDINATOR: '127.0.0.1:1', TGC_GROUP: 'g' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d));
    proc.once('exit', (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach the coordinator at 127\.0\.0\.1:1/);
});
