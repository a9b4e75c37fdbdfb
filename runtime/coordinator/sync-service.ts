import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { groupOfInstance } from '../../model/egress-plan.js';
import type { RunState } from './run-state.js';
import { ruleTable } from './testground-rules.js';
import { askedAddress, readdress } from './readdress.js';
import { shapeFromConfig } from './testground-shape.js';
import {
  MAX_MESSAGE_CHARS,
  MAX_MESSAGES_PER_INSTANCE,
  peerOf,
  type Instance,
  type Topic,
  type TopicStream,
} from './types.js';

// The coordinator as Testground's sync service (docs/protocol.md, "The sync service dialect"):
// sdk-go's requests over a WebSocket, answered as sync-service answers them, on tgc's states
// and topics, so an sdk-go instance and a tgc SDK instance share barriers and topics.

/** A subscription is written to while less than this is queued to its client. */
const STREAM_HIGH_WATER = 1024 * 1024;

export interface SyncServiceOptions {
  readonly maxFrameBytes: number;
  readonly maxQueuedBytes: number;
}

/** `run:<run>:plan:<plan>:case:<case>:states:<name>` → the state `name`; the same for topics and run events. */
export function parseKey(
  key: string,
): { kind: 'state' | 'topic' | 'events'; name: string } | { kind: 'raw'; name: string } {
  const m = /^run:.*?:plan:.*?:case:.*?:(states|topics):(.+)$/s.exec(key);
  if (m) return { kind: m[1] === 'states' ? 'state' : 'topic', name: m[2]! };
  if (/^run:.*:run_events$/s.test(key)) return { kind: 'events', name: 'run_events' };
  return { kind: 'raw', name: key };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The WebSocket side of the coordinator's port (HTTP upgrades on any path). */
export class SyncService {
  private readonly wss: WebSocketServer;
  readonly conns = new Set<SyncConn>();

  constructor(
    private readonly run: RunState,
    private readonly o: SyncServiceOptions,
  ) {
    // No permessage-deflate: frames are small, and compression would cost every client CPU.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes, perMessageDeflate: false });
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new SyncConn(ws, peerOf(req.socket), this.run, this.o);
      this.conns.add(conn);
      ws.once('close', () => {
        this.conns.delete(conn);
        conn.closed();
      });
    });
  }

  closeAll(): void {
    for (const c of this.conns) c.ws.terminate();
  }
}

type Response = { error?: string; publish?: { seq: number }; subscribe?: string; signal_entry?: { seq: number } };

/** One sdk-go client: its requests, its subscriptions, and once known, the instance it is. */
class SyncConn {
  instance: Instance | undefined;
  private readonly streams = new Map<string, { topic: Topic; stream: TopicStream }>();
  private ended = false;

  constructor(
    readonly ws: WebSocket,
    private readonly ip: string,
    private readonly run: RunState,
    private readonly o: SyncServiceOptions,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('error', () => ws.terminate());
  }

  /** A response as sync-service writes it: all five keys, a JSON text frame ending in a newline. */
  respond(id: string, r: Response): void {
    if (this.ended) return;
    if (this.ws.bufferedAmount > this.o.maxQueuedBytes) {
      // A client that does not read is dropped rather than buffered without bound.
      this.ended = true;
      this.ws.terminate();
      return;
    }
    const publish = r.publish ? `{"seq":${r.publish.seq}}` : 'null';
    const signal = r.signal_entry ? `{"seq":${r.signal_entry.seq}}` : 'null';
    this.ws.send(
      `{"id":${JSON.stringify(id)},"error":${JSON.stringify(r.error ?? '')},"publish":${publish},` +
        `"subscribe":${JSON.stringify(r.subscribe ?? '')},"signal_entry":${signal}}\n`,
    );
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    let req: unknown;
    try {
      req = JSON.parse((Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString('utf8'));
    } catch {
      return this.respond('', { error: `${isBinary ? 'a binary frame' : 'a frame'} that is not one JSON request` });
    }
    if (!isObject(req)) return this.respond('', { error: 'a request is a JSON object' });
    const id = typeof req.id === 'string' ? req.id : typeof req.id === 'number' ? String(req.id) : '';
    // Where the address names the instance, it is known from its first request: one that then
    // sends no run event at all still times out as "connected", not as "never registered".
    if (!this.instance) this.identify(undefined);
    if (req.is_cancel === true) return this.cancel(id);
    const str = (o: unknown, k: string) =>
      isObject(o) && typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined;
    if (req.publish !== undefined && req.publish !== null) {
      const topic = str(req.publish, 'topic');
      if (!topic || !isObject(req.publish) || !('payload' in req.publish)) {
        return this.respond(id, { error: 'publish needs a topic and a payload' });
      }
      return this.publish(id, topic, req.publish.payload);
    }
    if (req.subscribe !== undefined && req.subscribe !== null) {
      const topic = str(req.subscribe, 'topic');
      return topic ? this.subscribe(id, topic) : this.respond(id, { error: 'subscribe needs a topic' });
    }
    if (req.barrier !== undefined && req.barrier !== null) {
      const state = str(req.barrier, 'state');
      const target = isObject(req.barrier) ? req.barrier.target : undefined;
      if (!state || !Number.isSafeInteger(target))
        return this.respond(id, { error: 'barrier needs a state and a target' });
      return this.barrier(id, state, target as number);
    }
    if (req.signal_entry !== undefined && req.signal_entry !== null) {
      const state = str(req.signal_entry, 'state');
      if (!state) return this.respond(id, { error: 'signal_entry needs a state' });
      return this.respond(id, { signal_entry: { seq: this.run.signal(parseKey(state).name, this.instance) } });
    }
    this.respond(id, { error: 'a request needs one of publish, subscribe, barrier or signal_entry' });
  }

  private publish(id: string, key: string, payload: unknown): void {
    const k = parseKey(key);
    if (k.kind === 'events') this.runEvent(payload);
    const seq = this.run.publish(k.name, payload);
    if (k.kind === 'topic' && k.name.startsWith('network:') && isObject(payload)) this.network(payload);
    this.respond(id, { publish: { seq } });
  }

  private subscribe(id: string, key: string): void {
    const topic = this.run.topic(parseKey(key).name);
    this.cancel(id);
    const stream: TopicStream = {
      next: 1,
      push: (json) => {
        if (this.ended) return true;
        if (this.ws.bufferedAmount >= STREAM_HIGH_WATER) {
          // The client is behind: look again shortly (ws has no drain event of its own).
          setTimeout(() => stream.resume?.(), 20).unref();
          return false;
        }
        this.respond(id, { subscribe: json });
        return true;
      },
    };
    this.streams.set(id, { topic, stream });
    topic.streams.add(stream);
    this.run.stream(stream, topic);
  }

  private cancel(id: string): void {
    const s = this.streams.get(id);
    if (!s) return;
    s.topic.streams.delete(s.stream);
    this.streams.delete(id);
  }

  private barrier(id: string, key: string, target: number): void {
    const entry = this.run.state(parseKey(key).name);
    if (entry.count >= target) return this.respond(id, {});
    if (this.run.result) return this.respond(id, { error: 'context canceled' });
    const list = entry.waiters.get(target) ?? [];
    list.push({ notify: (_count, error) => this.respond(id, error === undefined ? {} : { error }) });
    entry.waiters.set(target, list);
  }

  /** Run events: who this client is, its messages and its outcome, its stages for the timeline. */
  private runEvent(payload: unknown): void {
    if (!isObject(payload)) return;
    const kind = Object.keys(payload).find((k) => k.endsWith('_event'));
    const body = kind ? payload[kind] : undefined;
    if (!kind || !isObject(body)) return;
    const runenv = isObject(body.runenv) ? body.runenv : {};
    const group = typeof body.group === 'string' ? body.group : runenv.test_group_id;
    if (!this.instance && typeof group === 'string') this.identify(group);
    const inst = this.instance;
    if (!inst || this.run.result) return;
    const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
    switch (kind) {
      case 'message_event':
        if (inst.messages.length < MAX_MESSAGES_PER_INSTANCE) {
          inst.messages.push(text(body.message).slice(0, MAX_MESSAGE_CHARS));
        }
        return;
      case 'success_event':
        if (!inst.outcome) this.run.setOutcome(inst, 'success', undefined);
        return;
      case 'failure_event':
        if (!inst.outcome)
          this.run.setOutcome(inst, 'failure', text(body.error).slice(0, MAX_MESSAGE_CHARS) || 'failed');
        return;
      case 'crash_event': {
        // sdk-go sends two on a panic; the first (with the stack) decides.
        const reason = [text(body.error), text(body.stacktrace)].filter(Boolean).join('\n');
        if (!inst.outcome) this.run.setOutcome(inst, 'crash', reason.slice(0, MAX_MESSAGE_CHARS) || 'crashed');
        return;
      }
      case 'stage_start_event':
      case 'stage_end_event':
        this.run.timeline.add({
          t_ms: this.run.elapsed(),
          event: 'stage',
          instance: inst.name,
          stage: text(body.name).slice(0, 256),
          phase: kind === 'stage_start_event' ? 'start' : 'end',
        });
        return;
    }
  }

  /**
   * Which instance this client is: the one whose shaping agent (or, on the local target, whose
   * namespace) has this client's address; where addresses tell nothing apart, the next instance
   * of its group (TEST_GROUP_ID, from a run event) that has not registered, in order.
   */
  private identify(testgroundGroup: string | undefined): void {
    const known = this.run.addresses.get(this.ip);
    const group = testgroundGroup !== undefined ? this.run.groupOf(testgroundGroup) : known && this.groupOfName(known);
    if (group === undefined) return;
    if (known) {
      const existing = this.run.byName.get(known);
      if (existing) {
        this.instance = existing;
        return;
      }
    }
    if (this.run.instances.length >= this.run.o.instances) return;
    const expected = this.run.o.groups?.[group];
    if (expected !== undefined && (this.run.groupCounts.get(group) ?? 0) >= expected) return;
    let name = known;
    for (let k = 0; !name; k++) if (!this.run.byName.has(`${group}-${k}`)) name = `${group}-${k}`;
    const inst = this.run.addInstance(name, group, this.run.dataIps.get(name) ?? null, undefined);
    inst.ws = true;
    this.instance = inst;
  }

  /** The test group instance `name` (`<group>-<n>`) belongs to; none for a service's. */
  private groupOfName(name: string): string | undefined {
    const group = groupOfInstance(name);
    return this.run.o.groups && group in this.run.o.groups ? group : undefined;
  }

  /** A network.Config on `network:<hostname>`: this client's agent applies it, then its callback state is signalled. */
  private network(config: Record<string, unknown>): void {
    const inst = this.instance;
    if (!inst || this.run.result) return;
    const callback =
      typeof config.callback_state === 'string' && config.callback_state ? config.callback_state : undefined;
    const agent = this.run.agentsByName.get(inst.name);
    if (!agent) {
      // No shaping in this run (as Testground's local:exec): nothing to apply, nobody kept waiting.
      if (callback) this.run.signal(parseKey(callback).name, inst);
      return;
    }
    const failed = (error: string) => {
      if (!inst.outcome && !this.run.result)
        this.run.setOutcome(inst, 'failure', `its network could not be configured: ${error}`);
    };
    const refuse = (why: string) => {
      if (inst.messages.length < MAX_MESSAGES_PER_INSTANCE) inst.messages.push(`tgc: network.Config refused: ${why}`);
      failed(`network.Config: ${why}`);
    };
    // Every instance's data address: as its agent gave it, or as it registered with it.
    const addresses = new Map(this.run.dataIps);
    for (const i of this.run.byName.values()) if (i.dataIp && !addresses.has(i.name)) addresses.set(i.name, i.dataIp);
    if (typeof config.IPv6 === 'string' && config.IPv6 !== '')
      return refuse(`IPv6 (${config.IPv6}) is not supported; the data network is IPv4`);
    // Another data address first (its agent moves it), then the rules' destinations, then the
    // default shape, whose application signals the callback.
    let moved: Promise<void> = Promise.resolve();
    if (typeof config.IPv4 === 'string' && config.IPv4 !== '') {
      const asked = askedAddress(config.IPv4);
      if ('error' in asked) return refuse(asked.error);
      // Its own address asked again (with any mask) changes nothing.
      if (asked.ip !== addresses.get(inst.name)) moved = readdress(this.run, agent, inst, asked);
    }
    const rules = ruleTable(config, inst.name, addresses);
    if ('error' in rules) return failed(`network.Config rules: ${rules.error}`);
    void (async () => {
      try {
        await moved;
      } catch (err) {
        return refuse(`changing the data address to ${config.IPv4}: ${(err as Error).message}`);
      }
      try {
        await this.run.schedule!.rulesFor(inst.name, rules.table);
      } catch (err) {
        return failed((err as Error).message);
      }
      this.run.configure(agent, {
        by: inst,
        id: undefined,
        agent,
        callbackState: callback && parseKey(callback).name,
        shape: shapeFromConfig(config),
        done: (error) => error !== undefined && failed(error),
      });
    })();
  }

  closed(): void {
    this.ended = true;
    for (const id of [...this.streams.keys()]) this.cancel(id);
    const inst = this.instance;
    if (inst?.ws && !inst.outcome && !this.run.result) this.run.lost(inst);
  }
}
