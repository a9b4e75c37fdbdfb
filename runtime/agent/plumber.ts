import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { stderrTail } from '../shaping/run-command.js';

/** Where the runtime image keeps `tgc-sync` (targets/compose/render.ts TOOLS_DIR). */
export const PLUMBER = '/usr/local/lib/tgc/tgc-sync';

/** What an instance's data path needs: the device's address and where its packets and relay go. */
export interface PlumbingRequest {
  /** The instance's network namespace (a /proc path). */
  readonly netns: string;
  readonly ip: string;
  readonly prefix: number;
  /** The wire's UDP port on the loopback. */
  readonly wire: number;
  /** The agent's Unix socket the coordinator's relay carries each connection to. */
  readonly relay: string;
  /** The relay's TCP port on the namespace's loopback. */
  readonly listen: number;
}

interface Answer {
  readonly key: string;
  readonly port?: number;
  readonly error?: string;
  readonly gone?: string;
}

/**
 * The agent's data paths, made by one `tgc-sync plumb` process (runtime/sync-client/plumb_linux.go):
 * per instance, the TUN device `data0` in its namespace with its address, up, the coordinator's
 * relay listener on its loopback, and the device's packets carried to and from the wire — one
 * line to a process already running, where each took a socat, sh, ip, nsenter and another socat
 * forked from this process.
 */
export class Plumber {
  private readonly waiting = new Map<string, { resolve(port: number): void; reject(err: Error): void }>();
  private readonly goneHandlers = new Map<string, (why: string) => void>();
  private ended: string | undefined;
  private closing = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly onEnd: (why: string) => void,
  ) {
    const said = stderrTail(child);
    // A process that could not start or has ended: its writes fail, and its exit says why.
    child.stdin!.on('error', () => undefined);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let a: Answer;
      try {
        a = JSON.parse(line) as Answer;
      } catch {
        return;
      }
      const w = this.waiting.get(a.key);
      if (a.gone !== undefined) this.goneHandlers.get(a.key)?.(a.gone);
      else if (w) {
        this.waiting.delete(a.key);
        if (a.error !== undefined) w.reject(new Error(a.error));
        else w.resolve(a.port!);
      }
    });
    const end = (how: string) => {
      if (this.ended !== undefined) return;
      this.ended = `${PLUMBER} plumb ${how}${said().trim() ? `: ${said().trim()}` : ''}`;
      for (const w of this.waiting.values()) w.reject(new Error(this.ended));
      this.waiting.clear();
      if (!this.closing) this.onEnd(this.ended);
    };
    child.once('error', (err) => end(`could not start (${err.message})`));
    child.once('exit', (code, signal) => end(signal ? `was killed (${signal})` : `exited with code ${code}`));
  }

  /** The process's pid (undefined when it could not start). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the plumbing process; `onEnd` hears why, should it end before `close`. */
  static start(onEnd: (why: string) => void, path = PLUMBER): Plumber {
    return new Plumber(spawn(path, ['plumb'], { stdio: ['pipe', 'pipe', 'pipe'] }), onEnd);
  }

  /**
   * One instance's data path, as `key`; resolves with the UDP port its packets come from on the
   * loopback (the wire's endpoint for it). `gone` hears why, should its packets stop.
   */
  add(key: string, request: PlumbingRequest, gone: (why: string) => void): Promise<number> {
    if (this.ended !== undefined) return Promise.reject(new Error(this.ended));
    this.goneHandlers.set(key, gone);
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(key, { resolve, reject });
      this.child.stdin!.write(JSON.stringify({ add: key, ...request }) + '\n');
    });
  }

  /** Ends `key`'s data path: its device goes (unless its namespace went first), and its relay. */
  remove(key: string): void {
    this.goneHandlers.delete(key);
    if (this.ended === undefined) this.child.stdin!.write(JSON.stringify({ remove: key }) + '\n');
  }

  /** Ends the process, and every data path with it; resolves once it has exited. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    this.child.kill('SIGKILL');
  }
}
