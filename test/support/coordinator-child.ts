// The bundled coordinator in a process of its own, as the targets run it, for tests that abuse
// it (its memory read from /proc, its file descriptors not the test's).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers.js';
import { RawClient } from './raw-client.js';

/**
 * Abuse, against the bundled coordinator in its own process (as the targets run it), so its
 * memory can be read from /proc and its file descriptors are not the test's.
 */
export interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  rssMb(): number;
  peakRssMb(): number;
}

export async function startChild(t: { after: (fn: () => unknown) => void }, args: string[]): Promise<Child> {
  // Started from an empty directory: the bundle needs nothing beside it.
  const cwd = tempDir('tgc-coord-');
  const proc = spawn(
    process.execPath,
    [join(repoRoot, 'dist/runtime/coordinator.mjs'), '--port', '0', '--linger', '0s', ...args],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => proc.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on [^:]+:([0-9]+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`coordinator exited ${code}: ${err}`)));
  });
  const field = (name: string) =>
    Number(
      /^(\w+):\s+(\d+) kB$/m.exec(
        readFileSync(`/proc/${proc.pid}/status`, 'utf8')
          .split('\n')
          .find((l) => l.startsWith(name)) ?? '',
      )?.[2],
    ) / 1024;
  return { proc, port, rssMb: () => field('VmRSS:'), peakRssMb: () => field('VmHWM:') };
}

export interface Status {
  readonly connections: number;
  readonly outcomes: Record<string, number>;
}

export async function status(port: number): Promise<Status> {
  return (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Status;
}

export async function healthy(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(res.status, 200);
  const c = await RawClient.open(port);
  assert.deepEqual(await c.request({ type: 'ping' }), { re: 1000 });
  c.close();
}
