// The coordinator's data, shared by its parts (connections, requests, run state, results).
import type { Socket } from 'node:net';
import type { Aggregate, Outcome } from '../../protocol/messages.js';
import type { LineReader } from './line-reader.js';

/** One client connection speaking the JSON-lines protocol. */
export interface Conn {
  readonly socket: Socket;
  readonly reader: LineReader;
  role?: 'instance' | 'agent';
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
  readonly timeoutMs?: number;
  readonly runId: string;
  readonly plan: string;
  readonly agents: boolean;
}

export interface StateEntry {
  count: number;
  /** Waiters by the count that releases them: each signal releases one key, O(1). */
  readonly waiters: Map<number, Waiter[]>;
}
export interface Waiter {
  readonly conn: Conn;
  readonly id: number | undefined;
}
export interface Topic {
  /** Each message already serialized (and encoded) as its event line: a fan-out does it once. */
  readonly lines: Buffer[];
  readonly subscribers: Set<Conn>;
}
export interface Instance {
  readonly name: string;
  readonly group: string;
  readonly seq: number;
  readonly groupSeq: number;
  readonly dataIp: string | null;
  readonly registeredMs: number;
  conn: Conn | undefined;
  agent: Conn | undefined;
  outcome?: Outcome;
  reason?: string;
  endedMs?: number;
  readonly metrics: Map<string, Aggregate>;
  readonly messages: string[];
  networkReady: boolean;
  readonly readyWaiters: Waiter[];
}
export interface PendingConfigure {
  readonly from: Conn;
  readonly id: number | undefined;
  readonly callbackState: string | undefined;
  readonly agent: Conn;
  /** The shape asked for, for the timeline once it is applied. */
  readonly shape: Record<string, unknown>;
}
