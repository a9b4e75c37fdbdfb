import type { ChildProcess } from 'node:child_process';
import type { ProcessAction } from '../../schema/ir.js';
import { sleep } from '../driver/exec.js';

type Proc = Pick<ChildProcess, 'exitCode' | 'signalCode' | 'pid'>;

/** How long `stop` (and the stop before a restart) waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;

/**
 * The local target's side of the schedule's process actions (docs/composition.md, Events), on
 * each instance's process group: kill (SIGKILL), stop (SIGTERM, then SIGKILL), restart (stopped
 * if running, then started again in the same namespace: same name, address and environment),
 * pause (SIGSTOP) and resume (SIGCONT). It remembers which exits it caused, so that a service
 * the schedule stops does not fail the run.
 */
export class ScheduledProcesses {
  private readonly causing = new Set<string>();

  constructor(
    private readonly procs: ReadonlyMap<string, Proc>,
    private readonly launchers: ReadonlyMap<string, () => void>,
  ) {}

  /** An instance's process ended: whether the schedule caused it. */
  ended(name: string): boolean {
    return this.causing.delete(name);
  }

  async act(action: ProcessAction, names: readonly string[]): Promise<void> {
    await Promise.all(names.map((name) => this.one(action, name)));
  }

  private async one(action: ProcessAction, name: string): Promise<void> {
    const proc = this.procs.get(name);
    if (!proc) throw new Error(`${name} has not started`);
    const running = proc.exitCode === null && proc.signalCode === null;
    switch (action) {
      case 'kill':
      case 'stop':
        if (!running) throw new Error(`${name} is not running`);
        return this.end(name, proc, action === 'kill' ? 0 : STOP_GRACE_MS);
      case 'restart':
        if (running) await this.end(name, proc, STOP_GRACE_MS);
        return this.launchers.get(name)!();
      case 'pause':
      case 'resume':
        if (!running) throw new Error(`${name} is not running`);
        signalGroup(proc.pid!, action === 'pause' ? 'SIGSTOP' : 'SIGCONT');
        return;
    }
  }

  /** SIGTERM (unless `graceMs` is 0), SIGKILL after `graceMs`; resolves once it has exited. */
  private async end(name: string, proc: Proc, graceMs: number): Promise<void> {
    this.causing.add(name);
    // A paused process must run again to act on SIGTERM.
    signalGroup(proc.pid!, 'SIGCONT');
    signalGroup(proc.pid!, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const deadline = Date.now() + graceMs;
    while (proc.exitCode === null && proc.signalCode === null) {
      if (Date.now() >= deadline) signalGroup(proc.pid!, 'SIGKILL');
      await sleep(20);
    }
  }
}

export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}
