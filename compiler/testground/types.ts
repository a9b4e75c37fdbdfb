// A Testground composition and manifest as decoded (decode.ts): Testground's structs, keys
// canonical, every field optional until validated.

export type Params = Record<string, string>;

export interface TgInstances {
  count?: number;
  percentage?: number;
}
export interface TgRunSection {
  artifact?: string;
  test_params?: Params;
  profiles?: Params;
}
export interface TgResources {
  memory?: string;
  cpu?: string;
}
export interface TgGroup {
  id?: string;
  builder?: string;
  build_config?: Record<string, unknown>;
  build?: { selectors?: string[]; dependencies?: Dependency[] };
  resources?: TgResources;
  instances?: TgInstances;
  run?: TgRunSection;
}
export interface Dependency {
  module?: string;
  target?: string;
  version?: string;
}
export interface TgRunGroup {
  id?: string;
  group_id?: string;
  instances?: TgInstances;
  resources?: TgResources;
  test_params?: Params;
  profiles?: Params;
}
export interface TgRun {
  id?: string;
  total_instances?: number;
  test_params?: Params;
  groups?: TgRunGroup[];
}
export interface TgComposition {
  metadata?: { name?: string; author?: string };
  global?: {
    plan?: string;
    case?: string;
    runner?: string;
    builder?: string;
    total_instances?: number;
    concurrent_builds?: number;
    disable_metrics?: boolean;
    build_config?: Record<string, unknown>;
    build?: TgGroup['build'];
    run_config?: Record<string, unknown>;
    run?: TgRunSection;
  };
  groups?: TgGroup[];
  runs?: TgRun[];
}

export interface TgManifest {
  name?: string;
  builders?: Record<string, unknown>;
  runners?: Record<string, unknown>;
  testcases?: {
    name?: string;
    instances?: { min?: number; max?: number; default?: number };
    params?: Record<string, { type?: string; desc?: string; unit?: string; default?: unknown }>;
  }[];
}

/** One group of one run, everything resolved: what becomes a tgc group. */
export interface PreparedGroup {
  /** The run-group id: TEST_GROUP_ID and the tgc group id. */
  readonly id: string;
  readonly groupIndex: number;
  readonly instances: number;
  readonly params: Params;
  readonly profiles: Params;
  readonly builder: string;
  readonly artifact?: string;
  readonly buildConfig: Record<string, unknown>;
  /** `[build] selectors`: the group's, else the global ones. */
  readonly selectors: readonly string[];
  /** `[build] dependencies`: the group's and the global ones. */
  readonly dependencies: readonly Dependency[];
  readonly resources: TgResources;
  /** Where the run-group (or, in the default run, the group) was written: canonical pointer. */
  readonly at: string;
}

export interface PreparedRun {
  readonly id: string;
  readonly total: number;
  readonly groups: readonly PreparedGroup[];
  readonly at: string;
}
