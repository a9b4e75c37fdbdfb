import { request } from 'node:http';
import { onLines } from '../../protocol/on-lines.js';

/** What the host agent reads of a container (GET /containers/{id}/json). */
export interface ContainerState {
  readonly Id: string;
  readonly State: { readonly Running: boolean; readonly Pid: number };
  readonly Config: { readonly Env: readonly string[] | null; readonly Labels: Readonly<Record<string, string>> | null };
  readonly NetworkSettings: {
    readonly Networks: Readonly<Record<string, { readonly IPAddress: string }>> | null;
  };
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
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path, method: 'GET' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 400) {
            const message = (safeJson(body) as { message?: string } | undefined)?.message ?? body.trim();
            return reject(new Error(`docker GET ${path}: ${res.statusCode} ${message}`));
          }
          const parsed = safeJson(body);
          if (parsed === undefined) return reject(new Error(`docker GET ${path}: not JSON`));
          resolve(parsed as T);
        });
      });
      req.on('error', (err) => reject(new Error(`the Docker API at ${this.socketPath}: ${err.message}`)));
      req.end();
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
