/**
 * Splits a byte stream into lines (frames) without ever holding more than `maxBytes` of an
 * unfinished line: the reader reports `tooLong` instead, so one client cannot grow the
 * coordinator's memory by sending a line that never ends.
 */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Feeds a chunk; returns the complete lines it finished, or `tooLong`. */
  push(chunk: Buffer): string[] | 'tooLong' {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (this.pendingBytes + (nl - start) > this.maxBytes) return 'tooLong';
      let line: Buffer = chunk.subarray(start, nl);
      if (this.pending.length > 0) {
        line = Buffer.concat([...this.pending, line]);
        this.pending = [];
        this.pendingBytes = 0;
      }
      lines.push(line.toString('utf8'));
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > this.maxBytes) return 'tooLong';
      this.pending.push(chunk.subarray(start));
    }
    return lines;
  }
}
