import { request } from 'node:http';
import { onLines } from '../../protocol/on-lines.js';

/** What the host agent reads of a container (GET /containers/{id}/json). */
export interface ContainerState {
  readonly Id: string;
  readonly State: { readonly Running: boolean; readonly Pid: number };
  readonly Config: {
    readonly Env: readonly string[] | null;
    readonly Labels: Readonly<Record<string, string>> | null;
    readonly Image?: string;
  };
  readonly Mounts?: readonly { readonly Source: string; readonly Destination: string }[];
  readonly NetworkSettings: {
    readonly Networks: Readonly<Record<string, { readonly IPAddress: string }>> | null;
  };
}

/** An answer of the Engine API with an error status (0: no answer at all). */
export class DockerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One event of GET /events (the fields the host agent uses). */
export interface DockerEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly id?: string;
}

/**
 * The Docker Engine API over its Unix socket, as the host agent needs it: no client library (this
 * code is bundled into every compose deployment), JSON in and out.
 */
export class DockerApi {
  constructor(private readonly socketPath: string) {}

  /** GET `path`, parsed as JSON; rejects with Docker's message on an error status. */
  get<T>(path: string): Promise<T> {
    return this.call('GET', path) as Promise<T>;
  }

  /**
   * Any call: `body` sent as JSON; resolves to the parsed answer (undefined when empty); rejects
   * with a DockerError carrying Docker's status and message.
   */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const text = (await this.send(method, path, body)).toString('utf8');
    return text.trim() === '' ? undefined : safeJson(text);
  }

  /** GET `path`'s body as bytes (a container's logs); rejects as `call` does. */
  bytes(path: string): Promise<Buffer> {
    return this.send('GET', path);
  }

  private send(method: string, path: string, body?: unknown): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = payload === undefined ? {} : { 'content-type': 'application/json' };
      const req = request({ socketPath: this.socketPath, path, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const status = res.statusCode ?? 500;
          const data = Buffer.concat(chunks);
          if (status < 400) return resolve(data);
          const text = data.toString('utf8');
          const message = (safeJson(text) as { message?: string } | undefined)?.message ?? text.trim();
          reject(new DockerError(status, `docker ${method} ${path.split('?')[0]}: ${message}`));
        });
      });
      req.on('error', (err) => reject(new DockerError(0, `the Docker API at ${this.socketPath}: ${err.message}`)));
      req.end(payload);
    });
  }

  /**
   * Follows GET /events with `filters` (Docker's filter map); resolves once the stream is open, so
   * that what happens after can be looked up without missing an event. `close()` ends it.
   */
  events(
    filters: Record<string, readonly string[]>,
    onEvent: (e: DockerEvent) => void,
    onEnd: (err?: Error) => void,
  ): Promise<{ close(): void }> {
    const path = `/events?filters=${encodeURIComponent(JSON.stringify(filters))}`;
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path, method: 'GET' }, (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          res.resume();
          return reject(new Error(`docker GET /events: ${res.statusCode}`));
        }
        onLines(res, (line) => {
          const e = safeJson(line);
          if (e && typeof e === 'object') onEvent(e as DockerEvent);
        });
        res.on('end', () => onEnd());
        res.on('error', (err) => onEnd(err));
        resolve({ close: () => req.destroy() });
      });
      req.on('error', (err) => reject(new Error(`the Docker API at ${this.socketPath}: ${err.message}`)));
      req.end();
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A variable of a container's environment, as Docker lists it (`NAME=value`). */
export function containerEnv(c: ContainerState, name: string): string | undefined {
  const entry = (c.Config.Env ?? []).find((e) => e.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

/**
 * A container's log as GET /containers/{id}/logs sends it without a terminal: frames of an 8-byte
 * header (stream, 3 zero bytes, length) and the bytes; stdout's, then stderr's, as `docker logs`
 * prints them to a file.
 */
export function demuxLogs(data: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let at = 0; at + 8 <= data.length;) {
    const size = data.readUInt32BE(at + 4);
    (data[at] === 2 ? err : out).push(data.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
