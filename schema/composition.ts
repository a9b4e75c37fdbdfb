/**
 * The composition as written (TOML or YAML), mirroring `composition.schema.json`. Values of
 * this type have passed the schema; units are still text.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Composition {
  version: 1;
  name: string;
  description?: string;
  params?: Record<string, Json>;
  run?: { timeout?: string; total_instances?: number; on_failure?: 'stop' | 'continue'; runtime_image?: string };
  defaults?: Settings;
  network?: NetworkSection;
  testground?: TestgroundSection;
  groups: GroupSpec[];
  events?: EventSpec[];
  [extension: `x-${string}`]: unknown;
}

export interface Settings {
  image?: string;
  build?: BuildSpec;
  command?: string[];
  env?: Record<string, string | number | boolean>;
  params?: Record<string, Json>;
  resources?: { cpu?: number | string; memory?: string };
}

export interface BuildSpec {
  context: string;
  kind?: 'docker' | 'go' | 'node';
  dockerfile?: string;
  context_prefix?: string;
  args?: Record<string, string | number | boolean>;
  base_image?: string;
  runtime_image?: string;
  skip_runtime_image?: boolean;
  path?: string;
  exec_pkg?: string;
  modfile?: string;
  enable_cgo?: boolean;
  go_proxy?: string;
  tags?: string[];
  replace?: { module: string; version: string; target?: string }[];
  fresh_gomod?: boolean;
  module_path?: string;
  dockerfile_extensions?: Partial<Record<DockerfileHook, string>>;
}

/** The points of the generated Go Dockerfile where `dockerfile_extensions` go (Testground's eight). */
export const DOCKERFILE_HOOKS = [
  'pre_mod_download',
  'post_mod_download',
  'pre_source_copy',
  'post_source_copy',
  'pre_build',
  'post_build',
  'pre_runtime_copy',
  'post_runtime_copy',
] as const;
export type DockerfileHook = (typeof DOCKERFILE_HOOKS)[number];

export interface ShapeSpec {
  latency?: string;
  jitter?: string;
  distribution?: Distribution;
  loss?: string;
  loss_correlation?: string;
  duplicate?: string;
  duplicate_correlation?: string;
  corrupt?: string;
  corrupt_correlation?: string;
  reorder?: string;
  reorder_correlation?: string;
  bandwidth?: string;
  blocked?: boolean;
}

export type Distribution = 'normal' | 'pareto' | 'paretonormal' | 'uniform';
export type Shaping = 'auto' | 'kernel' | 'userspace' | 'off';

export interface LinkRuleSpec extends ShapeSpec {
  from: string;
  to: string;
}

export interface NetworkSection extends ShapeSpec {
  shaping?: Shaping;
  classify?: 'auto' | 'address' | 'mark';
  subnet?: string;
  links?: LinkRuleSpec[];
}

/** One `[[events]]` entry: a trigger (`at` or `after`), optionally `delay`, and one action. */
export interface EventSpec {
  name?: string;
  at?: string;
  after?: { state: string; count?: number };
  delay?: string;
  partition?: string[][];
  heal?: true;
  link?: LinkRuleSpec;
  kill?: string;
  stop?: string;
  restart?: string;
  pause?: string;
  resume?: string;
}

export const PROCESS_ACTIONS = ['kill', 'stop', 'restart', 'pause', 'resume'] as const;
export const EVENT_ACTIONS = ['partition', 'heal', 'link', ...PROCESS_ACTIONS] as const;

export type InstancesSpec = number | { count: number } | { percentage: number };

export interface GroupSpec extends Settings {
  id: string;
  instances: InstancesSpec;
  network?: ShapeSpec;
  testground?: { group_id?: string; profiles?: Record<string, string> };
  role?: 'test' | 'service';
  on_exit?: 'fail' | 'ignore';
}

/** For programs written against a Testground SDK (docs/testground.md). */
export interface TestgroundSection {
  plan?: string;
  case: string;
  run?: string;
  runner?: string;
  disable_metrics?: boolean;
  exposed_ports?: Record<string, string>;
}

/** The link-shape keys, in the order tgc prints them. */
export const SHAPE_KEYS = [
  'latency',
  'jitter',
  'distribution',
  'loss',
  'loss_correlation',
  'duplicate',
  'duplicate_correlation',
  'corrupt',
  'corrupt_correlation',
  'reorder',
  'reorder_correlation',
  'bandwidth',
  'blocked',
] as const satisfies readonly (keyof ShapeSpec)[];
