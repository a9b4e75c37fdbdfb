import type { CoordinatorStatus } from '../../protocol/messages.js';
import type { DriverIo } from '../target.js';
import { progressLine } from './run-report.js';

/**
 * The live progress of a run, for every driver: on a terminal one line rewritten in place, else a
 * `tgc: …` line each time it changes; nothing with `--json`.
 */
export class Progress {
  private last = '';

  constructor(
    private readonly io: DriverIo,
    private readonly json: boolean,
    private readonly total: number,
  ) {}

  show(status: CoordinatorStatus): void {
    if (this.json) return;
    const line = progressLine(status, this.total);
    if (this.io.tty) this.io.stderr(`\r\x1b[K${line}`);
    else if (line !== this.last) this.io.stderr(`tgc: ${line}\n`);
    this.last = line;
  }

  /** Clears the in-place line before other output (logs, the outcome table). */
  clear(): void {
    if (this.io.tty && !this.json) this.io.stderr('\r\x1b[K');
  }
}
