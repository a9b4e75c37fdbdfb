import { connect, type Socket } from 'node:net';
import { onLines } from './on-lines.js';

/** An error the coordinator answered with; `code` is from docs/protocol.md (`closed`: the connection ended). */
export class CoordinatorError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CoordinatorError';
  }
}

/** A frame the coordinator sent that is not a reply: `message`, `stop`, `configure`, `error`. */
export type EventFrame = Readonly<Record<string, unknown>> & { readonly event: string };

interface Pending {
  resolve(body: Record<string, unknown>): void;
  reject(err: Error): void;
}

/**
 * One connection to the coordinator, for the SDK and the shaping agents alike: requests
 * numbered and each reply matched back (an error reply rejects with `CoordinatorError`),
 * every other frame handed to `onEvent`, and on close every pending request rejected.
 */
export class ProtocolClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly handlers: { readonly onEvent: (frame: EventFrame) => void; readonly onClose: () => void },
  ) {
    onLines(socket, (line) => this.onFrame(JSON.parse(line) as Record<string, unknown>));
    socket.on('close', () => this.fail(new CoordinatorError('closed', 'the connection to the coordinator closed')));
    socket.on('error', (err) => this.fail(err));
  }

  /** A socket to `host:port`, retrying every 200 ms for `timeoutMs` (the coordinator may start last). */
  static socket(host: string, port: number, timeoutMs: number): Promise<Socket> {
    return openSocket(host, port, Date.now() + timeoutMs);
  }

  /** Sends a request; resolves to the reply's fields. */
  request(type: string, fields: Readonly<Record<string, unknown>> = {}): Promise<Record<string, unknown>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(JSON.stringify({ type, id, ...fields }) + '\n');
    });
  }

  /** Sends a frame that wants no reply. */
  fire(type: string, fields: Readonly<Record<string, unknown>>): void {
    if (!this.closedError) this.socket.write(JSON.stringify({ type, ...fields }) + '\n');
  }

  /** Why the connection ended, once it has. */
  get closed(): Error | undefined {
    return this.closedError;
  }

  /** Ends the connection and waits until it is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  private onFrame(frame: Record<string, unknown>): void {
    if (typeof frame.re === 'number') {
      const p = this.pending.get(frame.re);
      if (!p) return;
      this.pending.delete(frame.re);
      const error = frame.error as { code: string; message: string } | undefined;
      if (error) p.reject(new CoordinatorError(error.code, error.message));
      else p.resolve(frame);
    } else if (typeof frame.event === 'string') this.handlers.onEvent(frame as EventFrame);
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.handlers.onClose();
  }
}

/** `host:port` (IPv6 hosts in brackets) → its parts. */
export function parseAddress(text: string): { host: string; port: number } {
  const m = /^(.*):([0-9]{1,5})$/.exec(text);
  if (!m) throw new Error(`coordinator address ${JSON.stringify(text)} is not host:port`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

function openSocket(host: string, port: number, deadline: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect({ host, port, noDelay: true });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err) => {
        socket.destroy();
        if (Date.now() + 200 > deadline)
          reject(new Error(`cannot reach the coordinator at ${host}:${port}: ${err.message}`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}
