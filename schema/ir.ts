import type { DockerfileHook, Distribution, Json, Shaping } from './composition.js';

/**
 * The intermediate representation every target renders from: units resolved, defaults and
 * params merged, instance counts fixed. Produced by `normalize`, deeply frozen.
 */
export interface Plan {
  readonly version: 1;
  readonly name: string;
  readonly description: string;
  /** Whole-run deadline in milliseconds. @default 600000 (10 minutes) */
  readonly timeoutMs: number;
  /**
   * A failure or a crash ends the run (`stop`), or every instance runs to its end (`continue`).
   * @default "stop" ("continue" for Testground compositions)
   */
  readonly onFailure: 'stop' | 'continue';
  /** Container targets: the image of the coordinator and the shaping agent. @default "tgc-runtime:0.1.0" */
  readonly runtimeImage: string;
  /** Sum of all group instance counts. */
  readonly totalInstances: number;
  readonly network: Network;
  readonly groups: readonly Group[];
  /** Present for programs written against a Testground SDK: the extra environment they read. */
  readonly testground?: Testground;
  /** The schedule of faults and changes, in plan order; absent when the plan has none. */
  readonly events?: readonly PlanEvent[];
}

/** One `[[events]]` entry, its selectors resolved to instance names. */
export interface PlanEvent {
  /** The name the timeline shows; applying it signals `event:<name>`. */
  readonly name: string;
  /** `at`: milliseconds after every instance's network is ready; `after`: a sync state's count. */
  readonly trigger: { readonly atMs: number } | { readonly state: string; readonly count: number };
  /** Waited after the trigger. @default 0 */
  readonly delayMs: number;
  readonly action: EventAction;
}

export type ProcessAction = 'kill' | 'stop' | 'restart' | 'pause' | 'resume';

export type EventAction =
  | { readonly kind: 'partition'; readonly sides: readonly (readonly string[])[] }
  | { readonly kind: 'heal' }
  | {
      readonly kind: 'link';
      readonly from: readonly string[];
      readonly to: readonly string[];
      readonly shape: LinkShape;
    }
  | { readonly kind: ProcessAction; readonly instances: readonly string[] };

export interface Testground {
  /** TEST_PLAN. */
  readonly plan: string;
  /** TEST_CASE. */
  readonly case: string;
  readonly run?: string;
  readonly runner?: string;
  readonly disableMetrics: boolean;
  /** Label → port: `<LABEL>_PORT`. */
  readonly exposedPorts: Readonly<Record<string, string>>;
}

export interface Network {
  /** @default "auto" */
  readonly shaping: Shaping;
  /** How the kernel backend tells traffic apart (docs/network.md). @default "auto" */
  readonly classify: 'auto' | 'address' | 'mark';
  /** IPv4 CIDR of the data network. @default "198.18.0.0/16" */
  readonly subnet: string;
  /** The `[network]` shape: every instance's default egress. */
  readonly shape: LinkShape;
  readonly links: readonly LinkRule[];
}

export interface Group {
  readonly id: string;
  readonly instances: number;
  /** Global index of this group's first instance (groups are laid out in plan order). */
  readonly firstIndex: number;
  readonly image?: string;
  readonly build?: Build;
  readonly command?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Merged params: group > defaults > top level, key by key. */
  readonly params: Readonly<Record<string, Json>>;
  readonly resources: Resources;
  /** This group's own egress shape (its `network` table), applied over `[network]`. */
  readonly network: LinkShape;
  /** `service`: started first, no outcome of its own, stopped when the run is decided; absent: a test group. */
  readonly role?: 'service';
  /** Services: an exit before the run is decided fails the run (`fail`, absent) or not (`ignore`). */
  readonly onExit?: 'ignore';
  /** Testground identity: TEST_GROUP_ID (default: the id) and capture profiles; absent when not set. */
  readonly testground?: { readonly groupId?: string; readonly profiles: Readonly<Record<string, string>> };
}

export interface Build {
  /** Relative to the plan file's directory. */
  readonly context: string;
  /**
   * `go`: a Go program (go build on the local target, the generated Dockerfile elsewhere);
   * `node`: the generated Node.js Dockerfile; absent: the context's own Dockerfile.
   */
  readonly kind?: 'go' | 'node';
  readonly dockerfile?: string;
  /** Where the context's files appear inside what the build sees (Testground's docker:generic: `plan`). */
  readonly contextPrefix?: string;
  readonly args: Readonly<Record<string, string>>;
  /** go, node: the image the build runs in. */
  readonly baseImage?: string;
  readonly go?: GoBuild;
}

/** A Go build's settings, defaults applied (Testground's docker:go and exec:go). */
export interface GoBuild {
  readonly runtimeImage: string;
  readonly skipRuntimeImage: boolean;
  /** The directory of go.mod inside the context, `.`-relative, no trailing slash. */
  readonly path: string;
  readonly execPkg: string;
  /** Relative to the context. */
  readonly modfile?: string;
  readonly cgo: boolean;
  /** GOPROXY; absent: the environment's. */
  readonly proxy?: string;
  readonly tags: readonly string[];
  readonly replace: readonly { readonly module: string; readonly version: string; readonly target?: string }[];
  /** fresh_gomod: go.mod replaced by `go mod init <this>`. */
  readonly freshModule?: string;
  readonly hooks: Readonly<Partial<Record<DockerfileHook, string>>>;
}

export interface Resources {
  readonly cpuMillis?: number;
  readonly memoryBytes?: number;
}

/** A link shape in base units. Absent fields are not set at this level. */
export interface LinkShape {
  readonly latencyMs?: number;
  readonly jitterMs?: number;
  readonly distribution?: Distribution;
  /** Percentages are 0–100. */
  readonly lossPct?: number;
  readonly lossCorrelationPct?: number;
  readonly duplicatePct?: number;
  readonly duplicateCorrelationPct?: number;
  readonly corruptPct?: number;
  readonly corruptCorrelationPct?: number;
  readonly reorderPct?: number;
  readonly reorderCorrelationPct?: number;
  readonly bandwidthBps?: number;
  readonly blocked?: boolean;
  /**
   * With `blocked`: the sender is refused at once (ICMP administratively prohibited) instead of
   * hearing nothing — a Testground `Reject` rule. Not a composition key.
   */
  readonly refused?: boolean;
}

export interface LinkRule {
  /** A group id or `*`. */
  readonly from: string;
  readonly to: string;
  readonly shape: LinkShape;
}

/** One test instance, as `tgc plan` lists them. */
export interface Instance {
  /** `<group>-<n>`, n counted from 0 within the group. */
  readonly name: string;
  readonly group: string;
  readonly groupIndex: number;
  readonly index: number;
}
