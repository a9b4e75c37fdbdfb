import { CoordinatorError, parseAddress, ProtocolClient, type EventFrame } from '../../protocol/client.js';
import type { DestinationShape } from '../../model/egress-plan.js';

/**
 * One shaping agent's connection to the coordinator (docs/protocol.md, "Network"): registers
 * for one instance, reports readiness, and answers the `configure` events relayed to it.
 */
export class AgentLink {
  private readonly stopHandlers: (() => void)[] = [];
  private readonly topics = new Map<string, (payload: unknown) => void>();
  private stopped = false;
  private stopEvent = false;
  private readonly client: ProtocolClient;
  private handler: (shape: unknown) => Promise<void> = async () => {
    throw new Error('this agent applies no mid-run changes');
  };
  private linksHandler: (links: readonly DestinationShape[]) => Promise<void> = async () => {
    throw new Error('this agent shapes no single links');
  };
  private addressHandler: (ip: string, prefix: number | undefined) => Promise<void> = async () => {
    throw new Error('this shaping backend cannot move an instance to another address (the userspace one can)');
  };

  private constructor(client: (handlers: ConstructorParameters<typeof ProtocolClient>[1]) => ProtocolClient) {
    this.client = client({ onEvent: (frame) => this.onEvent(frame), onClose: () => this.stop() });
  }

  /**
   * Connects (retrying while the coordinator starts) and registers as the agent of `instance`
   * whose data address is `dataIp` (the coordinator matches Testground's per-subnet rules by it);
   * `from`: the address the instance's own connections come from, where the agent is elsewhere
   * (compose's host agent relays them: a PROXY line names it, docs/protocol.md).
   */
  static async open(
    coordinator: string,
    instance: string,
    o: { readonly dataIp?: string | undefined; readonly timeoutMs?: number; readonly from?: string | undefined } = {},
  ): Promise<AgentLink> {
    const { dataIp, timeoutMs = 60_000, from } = o;
    const { host, port } = parseAddress(coordinator);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const socket = await ProtocolClient.socket(host, port, Math.max(0, deadline - Date.now()));
      if (from) socket.write(proxyLine(from, port));
      const link = new AgentLink((handlers) => new ProtocolClient(socket, handlers));
      try {
        await link.client.request('register', { role: 'agent', instance, ...(dataIp && { data_ip: dataIp }) });
        return link;
      } catch (err) {
        // A refusal is an answer; only a connection lost on the way is worth another try.
        if (err instanceof CoordinatorError && err.code !== 'closed') {
          throw new Error(`the coordinator refused the agent of ${instance}: ${err.message}`);
        }
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Applies mid-run shapes: resolve when applied, throw to refuse (the instance gets the message). */
  onConfigure(handler: (shape: unknown) => Promise<void>): void {
    this.handler = handler;
  }

  /**
   * Applies a scheduled event's per-destination shapes (the coordinator's `links`: this
   * instance's whole table, each time): resolve when applied, throw to refuse.
   */
  onLinks(handler: (links: readonly DestinationShape[]) => Promise<void>): void {
    this.linksHandler = handler;
  }

  /**
   * Moves the instance to another data address (Testground's `network.Config.IPv4`; `prefix`:
   * its new mask, if asked): resolve once packets to it arrive there, throw to refuse.
   */
  onAddress(handler: (ip: string, prefix: number | undefined) => Promise<void>): void {
    this.addressHandler = handler;
  }

  /** Whether the coordinator said the run has ended (its `stop` event), not only closed the link. */
  get runEnded(): boolean {
    return this.stopEvent;
  }

  /** Called once when the run ends (the coordinator's `stop` event) or the connection closes. */
  onStop(handler: () => void): void {
    this.stopHandlers.push(handler);
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.client.request('publish', { topic, payload }).catch(explain(`publish to ${topic}`));
  }

  /** Delivers every message of `topic`, from the first. */
  async subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<void> {
    this.topics.set(topic, onMessage);
    await this.client.request('subscribe', { topic }).catch(explain(`subscribe to ${topic}`));
  }

  async ready(): Promise<void> {
    await this.client.request('network_ready').catch(answered);
  }

  /** Shaping could not be set up: the coordinator fails the run with this reason. */
  async failed(reason: string): Promise<void> {
    await this.client.request('network_failed', { reason }).catch(answered);
  }

  close(): void {
    this.client.destroy();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of this.stopHandlers) h();
  }

  private onEvent(frame: EventFrame): void {
    if (frame.event === 'stop') {
      this.stopEvent = true;
      return this.stop();
    }
    if (frame.event === 'message' && typeof frame.topic === 'string') {
      return void this.topics.get(frame.topic)?.(frame.payload);
    }
    if (frame.event === 'configure' || frame.event === 'links' || frame.event === 'address') {
      const ref = frame.ref;
      const applied =
        frame.event === 'links'
          ? this.linksHandler(Array.isArray(frame.links) ? (frame.links as DestinationShape[]) : [])
          : frame.event === 'address'
            ? this.addressHandler(String(frame.ip), typeof frame.prefix === 'number' ? frame.prefix : undefined)
            : this.handler(frame.shape);
      applied.then(
        () => this.client.fire('configured', { ref }),
        (err: Error) => this.client.fire('configured', { ref, error: err.message }),
      );
    }
  }
}

/** Rejects with the request named, for errors the coordinator answered with. */
function explain(what: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof CoordinatorError && err.code !== 'closed') throw new Error(`${what}: ${err.message}`);
    throw err;
  };
}

/** The coordinator answered (an error reply: the run has ended, say): nothing more to do. */
function answered(err: unknown): void {
  if (!(err instanceof CoordinatorError) || err.code === 'closed') throw err;
}

/** HAProxy's PROXY line (version 1) naming `source` as where a relayed connection comes from. */
export function proxyLine(source: string, port: number): string {
  return `PROXY TCP4 ${source} 127.0.0.1 0 ${port}\r\n`;
}
