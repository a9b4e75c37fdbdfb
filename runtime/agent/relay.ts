import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { parseAddress } from '../../protocol/client.js';
import { proxyLine } from './agent-link.js';
import { stderrTail } from '../shaping/run-command.js';

/** The coordinator's port inside an instance's namespace, on its loopback (compose's host agent). */
export const RELAY_PORT = 5050;

/** How long a relayed connection waits for a coordinator that does not listen yet. */
const UPSTREAM_WAIT_MS = 60_000;

/** One instance's way to the coordinator: a listener in its namespace, relayed by the agent. */
export interface Relay {
  close(): void;
}

/**
 * Relays connections to 127.0.0.1:RELAY_PORT inside network namespace `netns` to the coordinator:
 * socat, entered there with nsenter, listens and carries each connection to this process's
 * `relayServer` (a Unix socket: no network between them). Resolves once the listener is up.
 */
export async function relayInto(
  netns: string,
  coordinator: string,
  source: string,
  tag: string,
  /** Where the Unix socket goes (a place that is cleaned up when the run is gone). @default "/tmp" */
  dir = '/tmp',
): Promise<Relay> {
  const path = relaySocket(tag, dir);
  const server = await relayServer(coordinator, source, path);
  const listen = ['socat', `TCP-LISTEN:${RELAY_PORT},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${path}`];
  const socat: ChildProcess = spawn('nsenter', [`--net=${netns}`, ...listen], { stdio: ['ignore', 'ignore', 'pipe'] });
  const said = stderrTail(socat);
  const close = () => {
    socat.kill('SIGTERM');
    server.close();
  };
  // Listening once its socket shows in the namespace's TCP table (read through socat's /proc
  // entry): socat binds within milliseconds, or has exited saying why.
  try {
    await socatListening(netns, socat, said);
  } catch (err) {
    close();
    throw err;
  }
  return { close };
}

/** The Unix socket of relay `tag` in `dir`, where the agent's end listens. */
export function relaySocket(tag: string, dir = '/tmp'): string {
  return `${dir}/tgc-relay-${tag}.sock`;
}

/**
 * The agent's end of a relay: a Unix socket at `path` whose every connection is opened to the
 * coordinator with a PROXY line naming `source` (the instance's data address) — the coordinator
 * tells instances apart by it. Whatever listens in the instance's namespace carries its
 * connections here (socat, or `tgc-sync plumb`). Resolves once it listens.
 */
export async function relayServer(coordinator: string, source: string, path: string): Promise<Relay> {
  const { host, port } = parseAddress(coordinator);
  rmSync(path, { force: true });
  let closed = false;
  const server: Server = createServer((inside) => {
    // The coordinator may not listen yet (its container started a moment before the instance's,
    // and a program can be quicker than it): the connection waits for it, for up to a minute, as
    // a client retries a refused connect — it would take an accepted one that closes as the end.
    inside.pause();
    const giveUp = Date.now() + UPSTREAM_WAIT_MS;
    let outside: Socket | undefined;
    const end = () => {
      inside.destroy();
      outside?.destroy();
    };
    inside.once('error', end);
    inside.once('close', end);
    const attempt = () => {
      const o = (outside = connect(port, host));
      let connected = false;
      o.once('connect', () => {
        connected = true;
        o.write(proxyLine(source, port));
        inside.pipe(o);
        o.pipe(inside);
        o.once('close', end);
      });
      o.once('error', () => {
        if (connected || closed || inside.destroyed || Date.now() > giveUp) return end();
        o.destroy();
        // Not what keeps a process alive: a relay closed (the run over) ends its waiting ones.
        setTimeout(attempt, 200).unref();
      });
    };
    attempt();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    close() {
      closed = true;
      server.close();
      rmSync(path, { force: true });
    },
  };
}

async function socatListening(netns: string, socat: ChildProcess, said: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (socat.exitCode !== null || socat.signalCode !== null)
      throw new Error(`${netns}: ${said().trim() || `the coordinator's relay exited ${socat.exitCode}`}`);
    // /proc/net/tcp of a process in the namespace lists its listening sockets (state 0A).
    const tcp = await readFile(`/proc/${socat.pid}/net/tcp`, 'utf8').catch(() => '');
    if (tcp.includes(`:${RELAY_PORT.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`)) return;
    if (Date.now() > deadline) throw new Error(`the coordinator's relay in ${netns} did not listen within 10 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
