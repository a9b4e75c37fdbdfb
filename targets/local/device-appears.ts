import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** IFF_NOTRAILERS: a flag without effect in Linux, set by socat as the last step of a TUN's set-up. */
const IFF_NOTRAILERS = 0x20;

/**
 * socat's TUN address, with the flag `deviceAppears` waits for: socat creates the device, then
 * sets its flags by name — a device moved to another namespace in between makes that fail
 * ("SIOCSIFFLAGS … No such device"), and socat exit.
 */
export function socatTun(device: string): string {
  return `TUN,tun-name=${device},iff-no-pi,tun-type=tun,iff-notrailers`;
}

/**
 * Resolves once `device` shows up in sysfs with the flags socat (`proc`) sets once it no longer
 * needs the device by name (`socatTun`) — no process to spawn per look; rejects, saying why,
 * when socat exits first or `timeoutMs` passes. `stderr` is what socat said so far.
 */
export async function deviceAppears(
  device: string,
  proc: Pick<ChildProcess, 'exitCode'>,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ready = async () => {
    const flags = await readFile(`/sys/class/net/${device}/flags`, 'utf8').catch(() => '');
    return flags !== '' && (Number.parseInt(flags, 16) & IFF_NOTRAILERS) !== 0;
  };
  while (!(await ready())) {
    if (proc.exitCode !== null)
      throw new Error(`socat exited before the TUN device ${device} appeared: ${stderr() || `code ${proc.exitCode}`}`);
    if (Date.now() > deadline)
      throw new Error(
        `the TUN device ${device} did not appear within ${timeoutMs / 1000} s${stderr() ? `: ${stderr()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 10));
  }
}
