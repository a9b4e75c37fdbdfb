import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Resolves once `device` shows up in sysfs, where it appears as soon as socat (`proc`) has
 * created it — no process to spawn per look; rejects, saying why, when socat exits first or
 * `timeoutMs` passes. `stderr` is what socat said so far.
 */
export async function deviceAppears(
  device: string,
  proc: Pick<ChildProcess, 'exitCode'>,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(`/sys/class/net/${device}`)) {
    if (proc.exitCode !== null)
      throw new Error(`socat exited before the TUN device ${device} appeared: ${stderr() || `code ${proc.exitCode}`}`);
    if (Date.now() > deadline)
      throw new Error(
        `the TUN device ${device} did not appear within ${timeoutMs / 1000} s${stderr() ? `: ${stderr()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 10));
  }
}
