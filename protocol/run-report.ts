import type { Outcome, Results } from './messages.js';

// results.json, the file every run leaves (schema: docs/results.schema.json): the coordinator's
// results joined with what the driver knows (the plan's instances and network, exit codes).

/** One instance in `results.json`: the coordinator's view plus what the driver saw. */
export interface InstanceReport {
  readonly name: string;
  readonly group: string;
  readonly seq: number | null;
  readonly group_seq: number | null;
  readonly data_ip: string | null;
  readonly outcome: Outcome;
  readonly reason: string | null;
  readonly exit_code: number | null;
  readonly registered_ms: number | null;
  readonly ended_ms: number | null;
  readonly metrics: Results['instances'][number]['metrics'];
  /** sdk-go's diagnostics.out, apart from the metrics (absent when there is none). */
  readonly diagnostics?: Results['instances'][number]['metrics'];
  readonly messages: readonly string[];
  readonly log: string;
  readonly outputs: string;
}

/** `results.json` (schema: docs/results.schema.json). */
export interface RunReport {
  readonly tgc_version: string;
  readonly run_id: string;
  readonly plan: string;
  readonly target: string;
  readonly backend: string;
  readonly outcome: 'success' | 'failure';
  readonly reason: string | null;
  readonly started_at: string;
  readonly duration_ms: number;
  readonly groups: Results['groups'];
  readonly instances: readonly InstanceReport[];
  /** The instances of `role = "service"` groups: no outcome of their own. */
  readonly services?: readonly ServiceReport[];
  /** The shapes the plan puts on each group pair (mid-run changes are `configure` events in the timeline). */
  readonly network: NetworkReport;
  readonly timeline: Results['timeline'];
  readonly timeline_dropped: number;
  /** The plan's `[[events]]` as applied (docs/composition.md, Events); empty without a schedule. */
  readonly events: Results['events'];
}

/** A service instance in results.json: how its process ended (null: stopped by tgc, or unknown). */
export interface ServiceReport {
  readonly name: string;
  readonly group: string;
  readonly exit_code: number | null;
  readonly log: string;
  readonly outputs: string;
}

/** A link shape in results.json: the IR's base units, snake_case. */
export interface ShapeReport {
  readonly latency_ms?: number;
  readonly jitter_ms?: number;
  readonly distribution?: string;
  readonly loss_pct?: number;
  readonly loss_correlation_pct?: number;
  readonly duplicate_pct?: number;
  readonly duplicate_correlation_pct?: number;
  readonly corrupt_pct?: number;
  readonly corrupt_correlation_pct?: number;
  readonly reorder_pct?: number;
  readonly reorder_correlation_pct?: number;
  readonly bandwidth_bps?: number;
  readonly blocked?: boolean;
}

/** The plan's network as a from × to matrix of groups. */
export interface NetworkReport {
  /** The plan's `network.shaping` (`auto`, `userspace`, `kernel`, `off`); `backend` says what ran. */
  readonly shaping: string;
  readonly subnet: string;
  readonly groups: readonly string[];
  /** One per (from, to) pair of groups, from-major in plan order. */
  readonly links: readonly {
    readonly from: string;
    readonly to: string;
    readonly shape: ShapeReport;
    readonly description: string;
  }[];
}
