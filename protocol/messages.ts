/**
 * The coordinator's wire protocol: newline-delimited JSON over TCP (one JSON object per line,
 * UTF-8). `docs/protocol.md` is the reference; this file is its TypeScript shape.
 */

/** A frame (one line) may not exceed this many bytes; a longer one closes the connection. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** The state agents signal once their instance's shaping is applied. */
export const NETWORK_READY_STATE = 'network-ready';
/** The same moment under Testground's name, signalled too (sdk-go waits on it with TEST_SIDECAR=true). */
export const NETWORK_INITIALIZED_STATE = 'network-initialized';

export type Outcome = 'success' | 'failure' | 'crash' | 'timeout' | 'stopped';

export const ERROR_CODES = [
  'bad_json',
  'bad_request',
  'frame_too_large',
  'unknown_type',
  'not_registered',
  'already_registered',
  'run_full',
  'group_full',
  'unknown_group',
  'duplicate_instance',
  'run_ended',
  'outcome_reported',
  'no_agent',
  'configure_failed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Requests a client sends. `id` is optional; when present, exactly one reply carries `re: id`. */
export type Request =
  | {
      type: 'register';
      id?: number;
      role?: 'instance' | 'agent' | 'driver' | 'attach';
      group?: string;
      instance?: string;
      data_ip?: string;
    }
  | { type: 'signal'; id?: number; state: string }
  | { type: 'barrier'; id?: number; state: string; target: number }
  | { type: 'publish'; id?: number; topic: string; payload: unknown }
  | { type: 'subscribe'; id?: number; topic: string; from?: number }
  | { type: 'unsubscribe'; id?: number; topic: string }
  | { type: 'record'; id?: number; name: string; value: number; unit?: string }
  | { type: 'message'; id?: number; text: string }
  | { type: 'outcome'; id?: number; status: 'success' | 'failure'; reason?: string }
  | { type: 'network_wait_ready'; id?: number }
  | {
      type: 'network_configure';
      id?: number;
      shape: Record<string, unknown>;
      callback_state?: string;
      /** Only the links to this instance or group (`group[index]` too), over the plan's shapes. */
      to?: string;
    }
  | { type: 'network_ready'; id?: number }
  | { type: 'network_failed'; id?: number; reason: string }
  | { type: 'configured'; id?: number; ref: number; error?: string }
  | {
      type: 'exited';
      id?: number;
      instance: string;
      group: string;
      code: number | null;
      signal?: string | null;
      log?: string;
    }
  | { type: 'abort'; id?: number; reason: string }
  | { type: 'process_done'; id?: number; ref: number; error?: string }
  | { type: 'ping'; id?: number };

export interface Identity {
  readonly run_id: string;
  readonly plan: string;
  readonly name: string;
  readonly group: string;
  readonly seq: number;
  readonly group_seq: number;
  readonly instances: number;
  readonly group_instances: number | null;
}

/** Running summary of recorded values: no samples are kept, so memory does not grow with them. */
export interface Aggregate {
  unit: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

/** A metric in the results: its running summary and mean (and, for an sdk-go metric, its kind). */
export type MetricSummary = Aggregate & {
  mean: number;
  /** An sdk-go metric's type (results.out, diagnostics.out); tgc's own records have none. */
  kind?: MetricKind;
  /** Histograms and timers: the distribution sdk-go summarized (timers in seconds). */
  distribution?: Distribution;
  /** Meters and timers: events per second, over 1, 5 and 15 minutes and over the whole run. */
  rates?: Rates;
};

/** sdk-go's metric types (Testground's `runenv.R()` / `D()`), each read by its meaning. */
export type MetricKind = 'point' | 'counter' | 'ewma' | 'gauge' | 'histogram' | 'meter' | 'timer';

/** A histogram's or timer's summary; percentiles are an instance's own (a group's has none). */
export interface Distribution {
  count: number;
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50?: number;
  p75?: number;
  p95?: number;
  p99?: number;
  p999?: number;
  p9999?: number;
}

export interface Rates {
  m1: number;
  m5: number;
  m15: number;
  mean: number;
}

export interface InstanceResult {
  readonly name: string;
  readonly group: string;
  readonly seq: number;
  readonly group_seq: number;
  readonly data_ip: string | null;
  readonly outcome: Outcome;
  readonly reason: string | null;
  readonly registered_ms: number;
  readonly ended_ms: number | null;
  readonly metrics: Record<string, MetricSummary>;
  readonly messages: readonly string[];
}

export interface GroupResult {
  readonly expected: number | null;
  readonly registered: number;
  readonly outcomes: Record<string, number>;
  readonly metrics: Record<string, MetricSummary>;
  /** sdk-go's diagnostics (diagnostics.out: the Go runtime's and the like), apart from the metrics. */
  readonly diagnostics?: Record<string, MetricSummary>;
}

/**
 * One entry of the results' `timeline`, `t_ms` after the coordinator started. Instance events
 * name their instance; a `mark` is a moment of the whole run (every instance registered, every
 * network ready).
 */
export type TimelineEvent =
  | { readonly t_ms: number; readonly event: 'registered' | 'network-ready'; readonly instance: string }
  | {
      readonly t_ms: number;
      readonly event: 'signal';
      readonly instance: string | null;
      readonly state: string;
      readonly count: number;
    }
  | {
      readonly t_ms: number;
      readonly event: 'record';
      readonly instance: string;
      readonly metric: string;
      readonly value: number;
    }
  | {
      readonly t_ms: number;
      readonly event: 'configure';
      readonly instance: string;
      readonly shape: Record<string, unknown>;
    }
  | {
      readonly t_ms: number;
      readonly event: 'outcome';
      readonly instance: string;
      readonly outcome: Outcome;
      readonly reason: string | null;
    }
  | {
      readonly t_ms: number;
      readonly event: 'stage';
      readonly instance: string;
      readonly stage: string;
      readonly phase: 'start' | 'end';
    }
  | { readonly t_ms: number; readonly event: 'mark'; readonly name: 'all-registered' | 'all-network-ready' }
  | {
      readonly t_ms: number;
      readonly event: 'fault';
      readonly name: string;
      readonly action: string;
      readonly result: 'applied' | 'failed';
    };

/** One scheduled event (the plan's `[[events]]`) as the coordinator applied it, for results.json. */
export interface AppliedEvent {
  readonly name: string;
  /** partition, heal, link, kill, stop, restart, pause, resume */
  readonly action: string;
  /** What it was waiting for: `{at_ms}` after every network was ready, or `{state, count}`. */
  readonly trigger: { readonly at_ms: number } | { readonly state: string; readonly count: number };
  readonly delay_ms: number;
  /** When the trigger fired, when the action began (trigger + delay), and when it was done (ms since start). */
  readonly triggered_ms: number;
  readonly t_ms: number;
  readonly done_ms: number;
  /** The instances it acted on: partition sides, link ends, or the process action's instances. */
  readonly instances: readonly string[];
  readonly result: 'applied' | 'failed';
  readonly error: string | null;
}

/** What `/results` serves once the run has ended. */
export interface Results {
  readonly run_id: string;
  readonly plan: string;
  readonly outcome: 'success' | 'failure';
  readonly reason: string | null;
  readonly duration_ms: number;
  readonly expected_instances: number;
  readonly registered_instances: number;
  readonly groups: Record<string, GroupResult>;
  readonly instances: readonly InstanceResult[];
  /** In time order; bounded (runtime/coordinator/timeline.ts), `timeline_dropped` counts what was left out. */
  readonly timeline: readonly TimelineEvent[];
  readonly timeline_dropped: number;
  /** The plan's scheduled events, in the order they were applied. */
  readonly events: readonly AppliedEvent[];
}

/** What `/status` serves while the run goes on (and after). */
export interface Status {
  readonly run_id: string;
  readonly plan: string;
  readonly state: 'running' | 'ended';
  readonly outcome: 'success' | 'failure' | null;
  readonly elapsed_ms: number;
  readonly instances: number;
  readonly registered: number;
  readonly network_ready: number;
  readonly outcomes: Record<string, number>;
  readonly states: Record<string, number>;
  readonly groups: Record<string, { expected: number | null; registered: number; outcomes: Record<string, number> }>;
  readonly connections: number;
  /** Frames and bytes the coordinator has written to its clients so far. */
  readonly sent_frames: number;
  readonly sent_bytes: number;
}

/** The part of `/status` a driver's progress line reads. */
export type CoordinatorStatus = Pick<Status, 'registered' | 'network_ready' | 'outcomes' | 'states'>;
