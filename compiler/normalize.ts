import type { BuildSpec, Composition, Json, Settings } from '../schema/composition.js';
import { posix } from 'node:path';
import type { Build, GoBuild, Group, Plan, Resources } from '../schema/ir.js';
import { GO_BASE_IMAGE, GO_RUNTIME_IMAGE, NODE_BASE_IMAGE } from '../model/build-defaults.js';
import { deepFreeze } from './deep-freeze.js';
import { resolveCounts, type CountSpec } from './instance-counts.js';
import { parseCpu, parseDuration, parseMemory } from '../model/units.js';
import { normalizeShape } from '../model/normalize-shape.js';
import { normalizeEvents } from './normalize-events.js';

/** The image container targets run the coordinator and the shaping agent in (docs/targets/compose.md builds it). */
export const DEFAULT_RUNTIME_IMAGE = 'tgc-runtime:0.1.0';
export const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
export const DEFAULT_SUBNET = '198.18.0.0/16';

/**
 * Stage: a checked composition → the IR. Units become numbers, settings inherit from
 * `[defaults]`, params merge (group > defaults > top level, key by key), counts are fixed.
 * Pure: reads its input without changing it, returns a new, deeply frozen plan.
 * Only call it on a composition that passed `checkSchema` and `checkMeaning`.
 */
export function normalize(c: Composition): Plan {
  const defaults: Settings = c.defaults ?? {};
  const specs: CountSpec[] = c.groups.map((g) =>
    typeof g.instances === 'number' ? { count: g.instances } : g.instances,
  );
  const counts = resolveCounts(specs, c.run?.total_instances);
  if (!Array.isArray(counts)) throw new Error('normalize: instance counts do not resolve; run checkMeaning first');
  let firstIndex = 0;
  const groups: Group[] = c.groups.map((g, i) => {
    const instances = counts[i]!;
    // image and build are one choice (what runs in a container): a group that sets either
    // inherits neither from [defaults].
    const own = g.image !== undefined || g.build !== undefined;
    const image = own ? g.image : defaults.image;
    const build = own ? g.build : defaults.build;
    const command = g.command ?? defaults.command;
    const group: Group = {
      id: g.id,
      instances,
      firstIndex,
      ...(image !== undefined && { image }),
      ...(build !== undefined && { build: normalizeBuild(build) }),
      ...(command !== undefined && { command: [...command] }),
      env: stringMap({ ...defaults.env, ...g.env }),
      params: { ...copyJson(c.params), ...copyJson(defaults.params), ...copyJson(g.params) },
      resources: normalizeResources({ ...defaults.resources, ...g.resources }),
      network: normalizeShape(g.network ?? {}),
      ...(g.role === 'service' && { role: 'service' as const }),
      ...(g.role === 'service' && g.on_exit === 'ignore' && { onExit: 'ignore' as const }),
      ...(g.testground && {
        testground: {
          ...(g.testground.group_id !== undefined && { groupId: g.testground.group_id }),
          profiles: { ...g.testground.profiles },
        },
      }),
    };
    firstIndex += instances;
    return group;
  });
  const net = c.network ?? {};
  const plan: Plan = {
    version: 1,
    name: c.name,
    description: c.description ?? '',
    timeoutMs: c.run?.timeout !== undefined ? parseDuration(c.run.timeout)! : DEFAULT_TIMEOUT_MS,
    // Testground lets every instance run to its end and reports each.
    onFailure: c.run?.on_failure ?? (c.testground ? 'continue' : 'stop'),
    totalInstances: firstIndex,
    runtimeImage: c.run?.runtime_image ?? DEFAULT_RUNTIME_IMAGE,
    network: {
      shaping: net.shaping ?? 'auto',
      classify: net.classify ?? 'auto',
      subnet: net.subnet ?? DEFAULT_SUBNET,
      shape: normalizeShape(net),
      links: (net.links ?? []).map((r) => ({ from: r.from, to: r.to, shape: normalizeShape(r) })),
    },
    groups,
    ...(c.testground && {
      testground: {
        plan: c.testground.plan ?? c.name,
        case: c.testground.case,
        ...(c.testground.run !== undefined && { run: c.testground.run }),
        ...(c.testground.runner !== undefined && { runner: c.testground.runner }),
        disableMetrics: c.testground.disable_metrics ?? false,
        exposedPorts: { ...c.testground.exposed_ports },
      },
    }),
    ...(c.events && c.events.length > 0 && { events: normalizeEvents(c.events, groups) }),
  };
  return deepFreeze(plan);
}

function normalizeBuild(b: BuildSpec): Build {
  const kind = b.kind === 'go' || b.kind === 'node' ? b.kind : undefined;
  const base = b.base_image ?? (kind === 'go' ? GO_BASE_IMAGE : kind === 'node' ? NODE_BASE_IMAGE : undefined);
  return {
    context: b.context,
    ...(kind && { kind }),
    ...(b.dockerfile !== undefined && { dockerfile: b.dockerfile }),
    ...(b.context_prefix !== undefined && { contextPrefix: b.context_prefix }),
    args: stringMap(b.args ?? {}),
    ...(base !== undefined && { baseImage: base }),
    ...(kind === 'go' && { go: normalizeGoBuild(b) }),
  };
}

function normalizeGoBuild(b: BuildSpec): GoBuild {
  // Paths inside the context in one spelling: `.`-relative, no trailing slash ("./" → ".").
  const clean = (p: string) => posix.normalize(p).replace(/\/+$/, '') || '.';
  return {
    runtimeImage: b.runtime_image ?? GO_RUNTIME_IMAGE,
    skipRuntimeImage: b.skip_runtime_image === true,
    path: clean(b.path ?? '.'),
    execPkg: b.exec_pkg ?? '.',
    ...(b.modfile !== undefined && { modfile: clean(b.modfile) }),
    cgo: b.enable_cgo === true,
    ...(b.go_proxy !== undefined && { proxy: b.go_proxy }),
    tags: [...(b.tags ?? [])],
    replace: (b.replace ?? []).map((r) => ({ ...r })),
    ...(b.fresh_gomod === true && b.module_path !== undefined && { freshModule: b.module_path }),
    hooks: { ...b.dockerfile_extensions },
  };
}

function normalizeResources(r: NonNullable<Settings['resources']>): Resources {
  const cpuMillis = r.cpu !== undefined ? parseCpu(r.cpu) : undefined;
  const memoryBytes = r.memory !== undefined ? parseMemory(r.memory) : undefined;
  return { ...(cpuMillis !== undefined && { cpuMillis }), ...(memoryBytes !== undefined && { memoryBytes }) };
}

/** Env and build args arrive as strings inside instances, whatever scalar was written. */
function stringMap(m: Record<string, string | number | boolean>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = String(v);
  return out;
}

function copyJson(v: Record<string, Json> | undefined): Record<string, Json> {
  return v === undefined ? {} : (structuredClone(v) as Record<string, Json>);
}
