import { CoordinatorError, parseAddress, ProtocolClient, type EventFrame } from '../protocol/client.js';

export { CoordinatorError } from '../protocol/client.js';

export interface StopEvent {
  readonly outcome: 'success' | 'failure';
  readonly reason: string | null;
}

export interface Subscription<T> extends AsyncIterableIterator<T> {
  /** The next `n` messages, as an array. */
  take(n: number): Promise<T[]>;
  close(): void;
}

interface TopicState {
  readonly messages: unknown[];
  readonly readers: Set<Reader>;
}

interface Reader {
  next: number;
  wake: (() => void) | undefined;
  closed: boolean;
}

/** The SDK's side of a connection: topics replayed to their readers, the run's stop event. */
export class Client {
  private readonly topics = new Map<string, TopicState>();
  stopped: StopEvent | undefined;
  private readonly stopHandlers: ((s: StopEvent) => void)[] = [];
  private readonly wire: ProtocolClient;

  private constructor(wire: (handlers: ConstructorParameters<typeof ProtocolClient>[1]) => ProtocolClient) {
    this.wire = wire({ onEvent: (frame) => this.onEvent(frame), onClose: () => this.wakeAll() });
  }

  /** Connects to the coordinator at `address`, retrying for `timeoutMs` while it starts. */
  static async connect(address: string, timeoutMs: number): Promise<Client> {
    const { host, port } = parseAddress(address);
    const socket = await ProtocolClient.socket(host, port, timeoutMs);
    return new Client((handlers) => new ProtocolClient(socket, handlers));
  }

  request(type: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.wire.request(type, fields);
  }

  fire(type: string, fields: Record<string, unknown>): void {
    this.wire.fire(type, fields);
  }

  onStop(handler: (s: StopEvent) => void): void {
    if (this.stopped) handler(this.stopped);
    else this.stopHandlers.push(handler);
  }

  subscribe(topic: string): Reader & { state: TopicState } {
    let state = this.topics.get(topic);
    if (!state) {
      this.topics.set(topic, (state = { messages: [], readers: new Set() }));
      this.request('subscribe', { topic }).catch(() => undefined);
    }
    const reader: Reader = { next: 1, wake: undefined, closed: false };
    state.readers.add(reader);
    return Object.assign(reader, { state });
  }

  close(): Promise<void> {
    return this.wire.close();
  }

  private onEvent(frame: EventFrame): void {
    if (frame.event === 'message') {
      const state = this.topics.get(frame.topic as string);
      const seq = frame.seq as number;
      // Messages arrive in order; a re-sent one (seq already held) is ignored.
      if (!state || seq !== state.messages.length + 1) return;
      state.messages.push(frame.payload);
      for (const r of state.readers) r.wake?.();
    } else if (frame.event === 'stop') {
      this.stopped = {
        outcome: frame.outcome as StopEvent['outcome'],
        reason: (frame.reason as string | null) ?? null,
      };
      for (const h of this.stopHandlers.splice(0)) h(this.stopped);
      this.wakeAll();
    } else if (frame.event === 'error') {
      const error = frame.error as { code: string; message: string };
      process.emitWarning(`tgc coordinator: ${error.code}: ${error.message}`);
    }
  }

  private wakeAll(): void {
    for (const state of this.topics.values()) for (const r of state.readers) r.wake?.();
  }

  get ended(): boolean {
    return this.stopped !== undefined || this.wire.closed !== undefined;
  }
}

export function subscription<T>(client: Client, topic: string): Subscription<T> {
  const reader = client.subscribe(topic);
  const close = () => {
    reader.closed = true;
    reader.state.readers.delete(reader);
    reader.wake?.();
  };
  const next = async (): Promise<IteratorResult<T>> => {
    for (;;) {
      if (reader.closed) return { done: true, value: undefined };
      if (reader.next <= reader.state.messages.length)
        return { done: false, value: reader.state.messages[reader.next++ - 1] as T };
      if (client.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (reader.wake = resolve));
      reader.wake = undefined;
    }
  };
  const sub: Subscription<T> = {
    next,
    return: async () => {
      close();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return sub;
    },
    async take(n: number) {
      const out: T[] = [];
      while (out.length < n) {
        const r = await next();
        if (r.done)
          throw new CoordinatorError('run_ended', `topic "${topic}" ended after ${out.length} of ${n} messages`);
        out.push(r.value);
      }
      return out;
    },
    close,
  };
  return sub;
}
