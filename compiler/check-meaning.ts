import schema from '../schema/composition.schema.json' with { type: 'json' };
import { SHAPE_KEYS } from '../schema/composition.js';
import { checkBuilds } from './check-builds.js';
import { checkEvents } from './check-events.js';
import { describePath } from './describe-path.js';
import type { Diagnostics } from './diagnostics.js';
import { resolveCounts, type CountSpec } from './instance-counts.js';
import { linkLayers, ruleKey } from '../model/link-layers.js';
import { MAX_MARKED_GROUPS } from '../model/egress-plan.js';
import { locate, pointer, type Positions } from './positions.js';
import { isReservedEnv } from './reserved-env.js';
import { didYouMean } from './suggest.js';
import { parseDuration, parsePercent, parseRate } from '../model/units.js';
import { parseCidr } from '../model/ipv4.js';

type Obj = Record<string, unknown>;

const NAME = new RegExp(schema.definitions.name.pattern);

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const asObj = (v: unknown): Obj | undefined => (isObj(v) ? v : undefined);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A shape with the path it was written at, so a problem points at the key that caused it. */
interface RawShape {
  readonly fields: Obj;
  readonly path: string;
}

/**
 * Stage: what the schema cannot say — cross-references, sums, and combinations a target
 * could not express. Written defensively: it runs even when the schema found problems, so
 * one `tgc validate` shows everything, and it skips whatever has the wrong type.
 */
export function checkMeaning(value: unknown, positions: Positions, diags: Diagnostics): void {
  const root = asObj(value);
  if (!root) return;
  const at = (path: string, want: 'key' | 'value' = 'value') => locate(positions, path, want);
  const groups = asArray(root.groups);
  const defaults = asObj(root.defaults) ?? {};
  const network = asObj(root.network) ?? {};
  const run = asObj(root.run) ?? {};

  // Group ids: unique.
  const ids = new Map<string, number>();
  groups.forEach((g, i) => {
    const id = asObj(g)?.id;
    if (typeof id !== 'string') return;
    const first = ids.get(id);
    if (first !== undefined)
      diags.error(
        'DUPLICATE_GROUP',
        at(pointer(['groups', i, 'id'])),
        `group id "${id}" is already used by groups[${first}]; group ids must be unique`,
      );
    else ids.set(id, i);
  });

  // Instance counts: percentages need a total and must fill it.
  const counts = checkCounts(groups, run, at, diags);

  // Resource names: `<plan>-<group>-<index>` must stay a DNS label.
  if (counts && typeof root.name === 'string' && NAME.test(root.name)) {
    groups.forEach((g, i) => {
      const id = asObj(g)?.id;
      if (typeof id !== 'string' || !NAME.test(id)) return;
      const longest = `${root.name}-${id}-${counts[i]! - 1}`;
      if (longest.length > 63) {
        diags.error(
          'NAME_TOO_LONG',
          at(pointer(['groups', i, 'id'])),
          `instance names such as "${longest}" (${longest.length} characters) exceed the 63 a DNS label allows; ` +
            `shorten the plan name or the group id`,
        );
      }
    });
  }

  // Something to run.
  const defaultRuns = ['command', 'image', 'build'].some((k) => defaults[k] !== undefined);
  groups.forEach((g, i) => {
    const group = asObj(g);
    if (group && !defaultRuns && !['command', 'image', 'build'].some((k) => group[k] !== undefined)) {
      diags.error(
        'NOTHING_TO_RUN',
        at(pointer(['groups', i])),
        `groups[${i}] has nothing to run; set command (local target) or image (containers), here or in [defaults]`,
      );
    }
  });

  checkBuilds(defaults, groups, diags, at);

  // Services: only alongside tests (which decide the run); on_exit only for them.
  groups.forEach((g, i) => {
    const group = asObj(g);
    if (group && group.on_exit !== undefined && group.role !== 'service') {
      diags.error(
        'BAD_VALUE',
        at(pointer(['groups', i, 'on_exit']), 'key'),
        'on_exit is for service groups: add role = "service", or remove it',
      );
    }
  });
  if (groups.length > 0 && groups.every((g) => asObj(g)?.role === 'service')) {
    diags.error(
      'NO_TEST_GROUP',
      at(pointer(['groups']), 'key'),
      'every group is a service: a run is decided by its test groups, so at least one group needs role = "test"',
    );
  }

  // Environment: tgc's own variables are not the plan's to set.
  const envs: [Obj, (string | number)[]][] = [[asObj(defaults.env) ?? {}, ['defaults', 'env']]];
  groups.forEach((g, i) => envs.push([asObj(asObj(g)?.env) ?? {}, ['groups', i, 'env']]));
  for (const [env, base] of envs) {
    for (const name of Object.keys(env)) {
      if (isReservedEnv(name))
        diags.error(
          'RESERVED_ENV',
          at(pointer([...base, name]), 'key'),
          `${name} is set by tgc inside every instance; choose another name`,
        );
    }
  }

  // The data subnet: well-formed and big enough.
  if (typeof network.subnet === 'string' && /^[0-9.]+\/[0-9]+$/.test(network.subnet)) {
    const cidr = parseCidr(network.subnet);
    const path = pointer(['network', 'subnet']);
    if ('error' in cidr)
      diags.error('BAD_SUBNET', at(path), `network.subnet ${JSON.stringify(network.subnet)}: ${cidr.error}`);
    else {
      const total = countAll(groups, run);
      // Reserved: network and broadcast addresses, the gateway, the coordinator.
      const room = 2 ** (32 - cidr.prefix) - 4;
      if (total !== undefined && total > room) {
        diags.error(
          'SUBNET_TOO_SMALL',
          at(path),
          `network.subnet ${network.subnet} has room for ${room} instances, the plan has ${total}; use a shorter ` +
            `prefix`,
        );
      }
    }
  }

  // Link rules: known groups, one rule per pair.
  const rules = new Map<string, RawShape>();
  asArray(network.links).forEach((r, i) => {
    const rule = asObj(r);
    if (!rule) return;
    for (const end of ['from', 'to'] as const) {
      const name = rule[end];
      if (typeof name === 'string' && name !== '*' && !ids.has(name)) {
        diags.error(
          'UNKNOWN_GROUP',
          at(pointer(['network', 'links', i, end])),
          `network.links[${i}].${end} names no group: "${name}"${didYouMean(name, ids.keys())} (use a group id or "*")`,
        );
      }
    }
    if (typeof rule.from !== 'string' || typeof rule.to !== 'string') return;
    const key = ruleKey(rule.from, rule.to);
    const path = pointer(['network', 'links', i]);
    if (rules.has(key)) {
      diags.error(
        'DUPLICATE_LINK',
        at(path),
        `a rule from "${rule.from}" to "${rule.to}" is already written at ${describePath(rules.get(key)!.path)}; ` +
          `merge them`,
      );
    } else rules.set(key, { fields: rule, path });
  });

  // Shapes: each on its own, then as they combine on every link.
  const shapes: RawShape[] = [{ fields: network, path: '/network' }, ...rules.values()];
  const groupShapes = new Map<string, RawShape>();
  groups.forEach((g, i) => {
    const group = asObj(g);
    const shape = asObj(group?.network);
    if (shape && typeof group?.id === 'string') {
      const raw = { fields: shape, path: pointer(['groups', i, 'network']) };
      shapes.push(raw);
      if (!groupShapes.has(group.id)) groupShapes.set(group.id, raw);
    }
  });
  for (const s of shapes) {
    const bw = s.fields.bandwidth;
    if (typeof bw === 'string' && parseRate(bw) === 0) {
      diags.error(
        'ZERO_BANDWIDTH',
        at(`${s.path}/bandwidth`),
        `bandwidth ${JSON.stringify(bw)} lets nothing through; to cut a link write blocked = true`,
      );
    }
  }
  checkCombinations([...ids.keys()], rules, groupShapes, { fields: network, path: '/network' }, at, diags);

  // The mark classification writes a group's number into 6 DSCP bits.
  if (network.classify === 'mark' && groups.length > MAX_MARKED_GROUPS)
    diags.error(
      'BAD_VALUE',
      at(pointer(['network', 'classify'])),
      `classify = "mark" tells at most ${MAX_MARKED_GROUPS} groups apart (DSCP); this plan has ${groups.length}: ` +
        'use "address"',
    );

  // The schedule: its selectors name instances, so it needs the counts.
  const known = counts && groups.every((g) => typeof asObj(g)?.id === 'string');
  checkEvents(
    root.events,
    known ? groups.map((g, i) => ({ id: asObj(g)!.id as string, instances: counts[i]! })) : undefined,
    network.shaping === 'off',
    positions,
    diags,
  );
}

/** Reports count problems; returns the resolved counts when there are none. */
function checkCounts(
  groups: unknown[],
  run: Obj,
  at: (p: string) => ReturnType<typeof locate>,
  diags: Diagnostics,
): number[] | undefined {
  const specs = countSpecs(groups);
  if (!specs) return undefined;
  const total = isCount(run.total_instances) ? run.total_instances : undefined;
  if (run.total_instances !== undefined && total === undefined) return undefined;
  const result = resolveCounts(specs, total);
  const firstPct = specs.findIndex((s) => 'percentage' in s);
  const fixed = specs.reduce((s, g) => s + ('count' in g ? g.count : 0), 0);
  const pctPath = pointer(['groups', firstPct, 'instances', 'percentage']);
  if ('problem' in result) {
    if (result.problem === 'no-total')
      diags.error(
        'PERCENTAGE_WITHOUT_TOTAL',
        at(pctPath),
        'instances given as a percentage need run.total_instances to take it from; set run.total_instances',
      );
    else if (result.problem === 'mismatch') {
      diags.error(
        'TOTAL_MISMATCH',
        at('/run/total_instances'),
        `run.total_instances is ${total} but the groups add up to ${fixed} instances`,
      );
    } else {
      const sum = specs.reduce((s, g) => s + ('percentage' in g ? g.percentage : 0), 0);
      diags.error(
        'PERCENTAGE_SUM',
        at(pctPath),
        `percentages add up to ${round(sum)} of run.total_instances = ${total}` +
          `${fixed ? ` next to ${fixed} counted instances` : ''}; together they must make exactly ${total}` +
          (fixed ? ` (percentages summing to ${round((total! - fixed) / total!)})` : ' (percentages summing to 1)'),
      );
    }
    return undefined;
  }
  let ok = true;
  result.forEach((n, i) => {
    if (n < 1 && 'percentage' in specs[i]!) {
      diags.error(
        'ZERO_INSTANCES',
        at(pointer(['groups', i, 'instances', 'percentage'])),
        `groups[${i}] gets 0 of ${total} instances from percentage ` +
          `${(specs[i] as { percentage: number }).percentage}; raise it or run.total_instances`,
      );
      ok = false;
    }
  });
  return ok ? result : undefined;
}

/** The groups' count specs, or undefined when any is malformed (the schema reports that). */
function countSpecs(groups: unknown[]): CountSpec[] | undefined {
  const specs: CountSpec[] = [];
  for (const g of groups) {
    const inst = asObj(g)?.instances ?? undefined;
    if (isCount(inst)) specs.push({ count: inst });
    else if (isObj(inst) && Object.keys(inst).length === 1 && isCount(inst.count)) specs.push({ count: inst.count });
    else if (
      isObj(inst) &&
      Object.keys(inst).length === 1 &&
      typeof inst.percentage === 'number' &&
      inst.percentage > 0 &&
      inst.percentage <= 1
    )
      specs.push({ percentage: inst.percentage });
    else return undefined;
  }
  return specs;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

function countAll(groups: unknown[], run: Obj): number | undefined {
  const specs = countSpecs(groups);
  if (!specs) return undefined;
  if (run.total_instances !== undefined && !isCount(run.total_instances)) return undefined;
  const result = resolveCounts(specs, run.total_instances);
  return Array.isArray(result) ? result.reduce((a, b) => a + b, 0) : undefined;
}

const DEPENDENT: readonly {
  field: string;
  needs: string;
  code:
    'REORDER_WITHOUT_LATENCY' | 'JITTER_WITHOUT_LATENCY' | 'DISTRIBUTION_WITHOUT_JITTER' | 'CORRELATION_WITHOUT_BASE';
}[] = [
  { field: 'reorder', needs: 'latency', code: 'REORDER_WITHOUT_LATENCY' },
  { field: 'jitter', needs: 'latency', code: 'JITTER_WITHOUT_LATENCY' },
  { field: 'distribution', needs: 'jitter', code: 'DISTRIBUTION_WITHOUT_JITTER' },
  { field: 'loss_correlation', needs: 'loss', code: 'CORRELATION_WITHOUT_BASE' },
  { field: 'duplicate_correlation', needs: 'duplicate', code: 'CORRELATION_WITHOUT_BASE' },
  { field: 'corrupt_correlation', needs: 'corrupt', code: 'CORRELATION_WITHOUT_BASE' },
  { field: 'reorder_correlation', needs: 'reorder', code: 'CORRELATION_WITHOUT_BASE' },
];

/** Whether a raw shape field is set to something that does anything. */
function isOn(field: string, v: unknown): boolean {
  if (typeof v !== 'string') return false;
  if (field === 'latency' || field === 'jitter') return (parseDuration(v) ?? 0) > 0;
  if (field === 'distribution') return true;
  return (parsePercent(v) ?? 0) > 0;
}

/**
 * Fields that depend on others (reorder on latency, a correlation on its percentage) are
 * checked on the shape each link ends up with, since the two may come from different layers.
 * Links between groups no rule names by `to` all resolve alike, so one stands for them all.
 */
function checkCombinations(
  ids: string[],
  rules: ReadonlyMap<string, RawShape>,
  groupShapes: ReadonlyMap<string, RawShape>,
  root: RawShape,
  at: (p: string, want?: 'key' | 'value') => ReturnType<typeof locate>,
  diags: Diagnostics,
): void {
  const namedTo = new Set<string>();
  for (const key of rules.keys()) namedTo.add(key.split('\0')[1]!);
  const targets = [...ids.filter((id) => namedTo.has(id)), '\0other'];
  const reported = new Set<string>();
  const source = {
    root,
    group: (id: string) => groupShapes.get(id),
    rule: (f: string, t: string) => rules.get(ruleKey(f, t)),
  };
  for (const from of ids.length ? ids : ['\0none']) {
    for (const to of targets) {
      const effective = new Map<string, { value: unknown; path: string }>();
      for (const layer of linkLayers(from, to, source)) {
        for (const k of SHAPE_KEYS)
          if (layer.fields[k] !== undefined) effective.set(k, { value: layer.fields[k], path: `${layer.path}/${k}` });
      }
      for (const dep of DEPENDENT) {
        const f = effective.get(dep.field);
        if (!f || !isOn(dep.field, f.value) || isOn(dep.needs, effective.get(dep.needs)?.value)) continue;
        if (reported.has(f.path)) continue;
        reported.add(f.path);
        const link = to === '\0other' ? `from group "${from}"` : `from "${from}" to "${to}"`;
        diags.error(
          dep.code,
          at(f.path, 'key'),
          `${dep.field} needs ${dep.needs} on the same link, and the link ${link} has none; set ${dep.needs} here ` +
            `or in a wider rule`,
        );
      }
    }
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
