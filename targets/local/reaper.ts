import { spawn } from 'node:child_process';
import { REAP_COMMAND } from './inside-command.js';
import { tgcBin } from './rootless.js';

/**
 * Starts `tgc reap <pid> <tag>` beside a root run: a process of its own session that waits for
 * this tgc to end and then kills the run's instances (every process in its namespaces) and
 * removes what it left — so a `kill -9` of tgc leaves nothing running. After a run that took
 * itself down, it finds nothing and exits.
 */
export function startReaper(tag: string): void {
  const child = spawn(process.execPath, [tgcBin(), REAP_COMMAND, String(process.pid), tag], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
  });
  child.unref();
}

/** `tgc reap`: polls `pid` every 250 ms; once it is gone, reaps run `tag`. */
export async function reap(pid: number, tag: string): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  while (alive()) await new Promise((r) => setTimeout(r, 250));
  const { reapRun } = await import('./network.js');
  await reapRun(tag);
}
