import WebSocket from 'ws';

/** A bare client of the sync service dialect for tests: sends frames as written, keeps every response text. */
export class WsClient {
  readonly texts: string[] = [];
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.texts.push(String(d));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  static open(port: number, path = '/'): Promise<WsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  send(text: string): void {
    this.ws.send(text);
  }

  get responses(): Record<string, unknown>[] {
    return this.texts.map((t) => JSON.parse(t));
  }

  /** The first response text (received or coming) that matches. */
  async waitFor(match: (r: Record<string, unknown>, text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.texts.find((t) => match(JSON.parse(t), t));
      if (found !== undefined) return found;
      if (this.closeCode !== undefined) throw new Error(`closed (${this.closeCode}); got ${this.texts.join('')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${this.texts.join('')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The response to request `id` (the first one, for a subscription). */
  reply(id: string, timeoutMs?: number): Promise<string> {
    return this.waitFor((r) => r.id === id, timeoutMs);
  }

  async closed(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (this.closeCode === undefined) throw new Error('still open');
    return this.closeCode;
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
