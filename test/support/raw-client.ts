import { connect, type Socket } from 'node:net';
import { onLines } from '../../protocol/on-lines.js';

/** A bare protocol client for tests: sends frames as written, collects whatever comes back. */
export class RawClient {
  readonly frames: Record<string, unknown>[] = [];
  closed = false;
  private waiters: (() => void)[] = [];
  private listeners: ((frame: Record<string, unknown>) => void)[] = [];
  private nextId = 1000;

  private constructor(readonly socket: Socket) {
    onLines(socket, (line) => {
      const frame = JSON.parse(line) as Record<string, unknown>;
      this.frames.push(frame);
      for (const l of this.listeners) l(frame);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host });
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Calls `listener` with every frame from now on (an agent's double answering what it is sent). */
  onFrame(listener: (frame: Record<string, unknown>) => void): void {
    this.listeners.push(listener);
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  send(frame: Record<string, unknown>): void {
    this.socket.write(JSON.stringify(frame) + '\n');
  }

  /** Sends a request with a fresh id and resolves to its reply. */
  async request(frame: Record<string, unknown>, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.send({ ...frame, id });
    return this.waitFor((f) => f.re === id, timeoutMs);
  }

  /** Resolves to the first frame (already received or coming) that matches. */
  async waitFor(match: (f: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (this.closed) throw new Error(`connection closed; frames: ${JSON.stringify(this.frames).slice(0, 500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => false, timeoutMs).then(
      () => undefined,
      (err: Error) => {
        if (!this.closed) throw err;
      },
    );
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
