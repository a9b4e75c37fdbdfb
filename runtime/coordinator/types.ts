import type { LinkShape } from '../../schema/ir.js';
// The coordinator's data, shared by its parts (connections, requests, run state, results).
import type { Socket } from 'node:net';
import type { Aggregate, Outcome } from '../../protocol/messages.js';
import type { LineReader } from './line-reader.js';

/** Messages kept per instance, and characters per message (both protocols). */
export const MAX_MESSAGES_PER_INSTANCE = 1000;
export const MAX_MESSAGE_CHARS = 4096;

/** The address a socket's peer has, without IPv4-mapped IPv6 dressing. */
export function peerIp(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

/** Sources that relays named (a PROXY line), by connection. */
const proxied = new WeakMap<object, string>();

/** The connection came through a relay for `source` (compose's host agent relays each instance's). */
export function setProxiedSource(socket: object, source: string): void {
  proxied.set(socket, source);
}

/** Where a connection comes from: the source its relay named, else its peer's address. */
export function peerOf(socket: { readonly remoteAddress?: string | undefined }): string {
  return proxied.get(socket) ?? peerIp(socket.remoteAddress);
}

/** One client connection speaking the JSON-lines protocol. */
export interface Conn {
  readonly socket: Socket;
  readonly reader: LineReader;
  role?: 'instance' | 'agent' | 'driver';
  /** Speaks for an instance without being its connection (tgc sync): closing it is nothing. */
  attached?: boolean;
  instance?: Instance;
  /** Agents: the instance name they shape. */
  shapes?: string;
  /** Next message seq to deliver, per subscribed topic. */
  readonly cursors: Map<string, number>;
  /** Topic delivery is paused until the socket drains. */
  drainPending: boolean;
  closed: boolean;
}

export interface RunOptions {
  readonly instances: number;
  readonly groups?: Readonly<Record<string, number>>;
  /** Service groups: their instances may attach (tgc sync) but have no outcome and decide nothing. */
  readonly services?: Readonly<Record<string, number>>;
  readonly timeoutMs?: number;
  readonly runId: string;
  readonly plan: string;
  readonly agents: boolean;
  /** How long a closed connection without an outcome waits for its process's exit to be reported. */
  readonly exitGraceMs: number;
  /** What exit code 0 without an outcome is: success, or (Testground programs, which exit 0 always) a crash. */
  readonly exitZero: 'success' | 'crash';
  /** A failure or a crash ends the run (`stop`), or every instance runs to its end (`continue`). */
  readonly onFailure: 'stop' | 'continue';
}

export interface StateEntry {
  count: number;
  /** Waiters by the count that releases them: each signal releases one key, O(1). */
  readonly waiters: Map<number, Waiter[]>;
}
/** A barrier waiter: a JSON-lines request to answer, or a callback (the WebSocket dialect). */
export type Waiter =
  | { readonly conn: Conn; readonly id: number | undefined }
  | { readonly notify: (count: number | undefined, error?: string) => void };
export interface Topic {
  /** Each message already serialized (and encoded) as its event line: a fan-out does it once. */
  readonly lines: Buffer[];
  /** Where each line's payload starts (it ends before the line's closing `}\n`). */
  readonly payloadAt: number[];
  readonly subscribers: Set<Conn>;
  /** Subscribers over the WebSocket dialect: each delivered as its own kind of frame. */
  readonly streams: Set<TopicStream>;
}
/** A WebSocket subscription: where it is in the topic, and how it is sent. */
export interface TopicStream {
  next: number;
  /** Sends one message's payload (JSON text); false when the client must be waited for. */
  readonly push: (payloadJson: string) => boolean;
  /** Called when a paused stream can go on. */
  resume?: () => void;
}
export interface Instance {
  readonly name: string;
  readonly group: string;
  readonly seq: number;
  readonly groupSeq: number;
  /** Its data address; a Testground `network.Config.IPv4` changes it. */
  dataIp: string | null;
  readonly registeredMs: number;
  conn: Conn | undefined;
  agent: Conn | undefined;
  outcome?: Outcome;
  reason?: string;
  endedMs?: number;
  readonly metrics: Map<string, Aggregate>;
  readonly messages: string[];
  networkReady: boolean;
  readonly readyWaiters: { readonly conn: Conn; readonly id: number | undefined }[];
  /** An instance of a service group: it syncs and shapes like the others, without an outcome. */
  service?: boolean;
  /** The instance speaks the sync service's WebSocket dialect (an sdk-go program). */
  ws?: boolean;
  /** Its connection closed without an outcome: a crash unless its exit is reported first. */
  closedTimer?: NodeJS.Timeout;
}
export interface PendingConfigure {
  /** A JSON-lines request to answer; or `done` for the WebSocket dialect. */
  readonly from?: Conn;
  readonly id: number | undefined;
  readonly done?: (error?: string) => void;
  /** Who asked: the instance whose network changes. */
  readonly by: Instance;
  readonly callbackState: string | undefined;
  readonly agent: Conn;
  /** The shape asked for, for the timeline once it is applied. */
  readonly shape: Record<string, unknown>;
  /** Asked by the schedule (the timeline has the event instead). */
  readonly silent?: true;
}

/** What the run asks of the plan's schedule (schedule.ts). */
export interface ScheduleHooks {
  stop(): void;
  linkTo(from: string, to: readonly string[], shape: LinkShape): Promise<void>;
  rulesFor(from: string, table: ReadonlyMap<string, LinkShape>): Promise<void>;
  driverConnected(conn: Conn): void;
  processDone(ref: number, error: string | undefined): boolean;
}
