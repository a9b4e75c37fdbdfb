import { connect, type Socket } from 'node:net';
import { onLines } from '../../protocol/on-lines.js';

/**
 * One shaping agent's connection to the coordinator (docs/protocol.md, "Network"): registers
 * for one instance, reports readiness, and answers the `configure` events relayed to it.
 */
export class AgentLink {
  private nextId = 1;
  private readonly stopHandlers: (() => void)[] = [];
  private readonly topics = new Map<string, (payload: unknown) => void>();
  private stopped = false;
  private handler: (shape: unknown) => Promise<void> = async () => {
    throw new Error('this agent applies no mid-run changes');
  };

  private constructor(private readonly socket: Socket) {
    onLines(socket, (line) => this.onFrame(JSON.parse(line) as Record<string, unknown>));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.stop();
      for (const p of this.pending.values()) p.reject(new Error('the connection to the coordinator closed'));
      this.pending.clear();
    });
  }

  /** Connects (retrying while the coordinator starts) and registers as the agent of `instance`. */
  static async open(coordinator: string, instance: string, timeoutMs = 60_000): Promise<AgentLink> {
    const m = /^(.*):([0-9]+)$/.exec(coordinator);
    if (!m) throw new Error(`coordinator address ${coordinator} is not host:port`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: m[1]!, port: Number(m[2]), noDelay: true });
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const link = new AgentLink(socket);
        const reply = await link.request({ type: 'register', role: 'agent', instance });
        if (reply.error)
          throw new RefusedError(
            `the coordinator refused the agent of ${instance}: ${(reply.error as { message: string }).message}`,
          );
        return link;
      } catch (err) {
        // A refusal is an answer; only an unreachable coordinator is worth another try.
        if (Date.now() > deadline || err instanceof RefusedError) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Applies mid-run shapes: resolve when applied, throw to refuse (the instance gets the message). */
  onConfigure(handler: (shape: unknown) => Promise<void>): void {
    this.handler = handler;
  }

  /** Called once when the run ends (the coordinator's `stop` event) or the connection closes. */
  onStop(handler: () => void): void {
    this.stopHandlers.push(handler);
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    const reply = await this.request({ type: 'publish', topic, payload });
    if (reply.error) throw new Error(`publish to ${topic}: ${(reply.error as { message: string }).message}`);
  }

  /** Delivers every message of `topic`, from the first. */
  async subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<void> {
    this.topics.set(topic, onMessage);
    const reply = await this.request({ type: 'subscribe', topic });
    if (reply.error) throw new Error(`subscribe to ${topic}: ${(reply.error as { message: string }).message}`);
  }

  async ready(): Promise<void> {
    await this.request({ type: 'network_ready' });
  }

  /** Shaping could not be set up: the coordinator fails the run with this reason. */
  async failed(reason: string): Promise<void> {
    await this.request({ type: 'network_failed', reason });
  }

  close(): void {
    this.socket.destroy();
  }

  private readonly pending = new Map<
    number,
    { resolve: (f: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();

  private request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.socket.destroyed) return Promise.reject(new Error('the connection to the coordinator closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(JSON.stringify({ ...frame, id }) + '\n');
    });
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of this.stopHandlers) h();
  }

  private onFrame(frame: Record<string, unknown>): void {
    if (frame.event === 'stop') return this.stop();
    if (frame.event === 'message' && typeof frame.topic === 'string')
      return void this.topics.get(frame.topic)?.(frame.payload);
    if (typeof frame.re === 'number') {
      this.pending.get(frame.re)?.resolve(frame);
      this.pending.delete(frame.re);
    } else if (frame.event === 'configure') {
      const ref = frame.ref;
      this.handler(frame.shape).then(
        () => this.socket.write(JSON.stringify({ type: 'configured', ref }) + '\n'),
        (err: Error) => this.socket.write(JSON.stringify({ type: 'configured', ref, error: err.message }) + '\n'),
      );
    }
  }
}

class RefusedError extends Error {}
