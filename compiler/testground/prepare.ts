import type { Code } from '../codes.js';
import type { Dependency, Params, PreparedGroup, PreparedRun, TgComposition, TgManifest, TgRunGroup } from './types.js';

/** Reports a problem at a canonical pointer of the composition. */
export type Report = (
  severity: 'error' | 'warning',
  code: Code,
  at: string,
  message: string,
  want?: 'key' | 'value',
) => void;

/** A manifest param default as Testground passes it: strings as they are, the rest as JSON, none → "null". */
export function paramDefault(value: unknown): string {
  if (value === undefined) return 'null';
  return typeof value === 'string' ? value : goJson(value);
}

/** Go's encoding/json: map keys sorted, <, > and & escaped. */
function goJson(v: unknown): string {
  const sorted = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sorted)
      : x !== null && typeof x === 'object' && !(x instanceof Date)
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, sorted((x as Record<string, unknown>)[k])]),
          )
        : x;
  return JSON.stringify(sorted(v)).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** The builders Testground has, and tgc runs. */
export const BUILDERS = ['docker:go', 'docker:generic', 'docker:node', 'exec:go'];

/** A builder's config defaults from the manifest (`[builders."docker:go"]`), without `enabled`. */
function builderDefaults(manifest: TgManifest | undefined, builder: string | undefined): Record<string, unknown> {
  const table = builder ? manifest?.builders?.[builder] : undefined;
  if (!table || typeof table !== 'object') return {};
  const { enabled: _enabled, ...rest } = table as Record<string, unknown>;
  return rest;
}

/** The group's build dependencies and the global ones it does not name (the group's win per module). */
function mergeDependencies(group: Dependency[] | undefined, global: Dependency[] | undefined): Dependency[] {
  const own = group ?? [];
  const names = new Set(own.map((d) => d.module));
  // The entries themselves (not copies): a problem with one is reported where it was written.
  return [...own, ...(global ?? []).filter((d) => d.module && !names.has(d.module))];
}

/** Fills the keys `over` lacks from `under` (mergo.Merge without override). */
function fill(over: Params | undefined, under: Params | undefined): Params {
  return { ...under, ...over };
}

/**
 * Testground's preparation and run validation (composition_preparation.go,
 * composition_validation.go): the default run when there is no `[[runs]]`, param and
 * profile precedence, instance counts, and the checks `testground run` makes. Returns the
 * runs in id order; problems go to `report`.
 */
export function prepareRuns(c: TgComposition, manifest: TgManifest | undefined, report: Report): PreparedRun[] {
  const g = c.global ?? {};
  if (!c.global)
    report('error', 'MISSING_KEY', '', 'a Testground composition needs a [global] table (plan, case, runner)');
  for (const key of ['plan', 'case', 'runner'] as const) {
    if (c.global && !g[key])
      report('error', 'MISSING_KEY', '/global', `global.${key} is required to run a composition`, 'key');
  }
  const groups = c.groups ?? [];
  if (groups.length === 0) report('error', 'MISSING_KEY', '', 'a composition needs at least one [[groups]] entry');
  const seen = new Map<string, number>();
  groups.forEach((grp, i) => {
    if (!grp.id) return report('error', 'MISSING_KEY', `/groups/${i}`, `groups[${i}] has no id`, 'key');
    if (seen.has(grp.id)) {
      report(
        'error',
        'DUPLICATE_GROUP',
        `/groups/${i}/id`,
        `group id "${grp.id}" is used twice (first by groups[${seen.get(grp.id)}])`,
      );
    } else seen.set(grp.id, i);
    const builder = grp.builder ?? g.builder;
    if (builder && !BUILDERS.includes(builder)) {
      report(
        'error',
        'UNSUPPORTED_BUILDER',
        grp.builder ? `/groups/${i}/builder` : '/global/builder',
        `"${builder}" is not a Testground builder: use ${BUILDERS.join(', ')}`,
      );
    }
    if (!grp.builder && !g.builder) {
      report(
        'error',
        'MISSING_KEY',
        `/groups/${i}`,
        `group "${grp.id}" has no builder: set groups.builder or global.builder`,
        'key',
      );
    }
  });

  // The test case and its parameter defaults, from the manifest.
  const testcase = manifest?.testcases?.find((t) => t.name === g.case);
  if (manifest && g.case && !testcase) {
    const known = (manifest.testcases ?? []).map((t) => t.name).filter(Boolean);
    report(
      'error',
      'UNKNOWN_CASE',
      '/global/case',
      `the manifest has no test case "${g.case}" (it has: ${known.join(', ') || 'none'})`,
    );
  }
  if (manifest) {
    for (const [what, used, declared] of [
      ['runner', g.runner, manifest.runners],
      ...groups.map((grp) => ['builder', grp.builder ?? g.builder, manifest.builders] as const),
    ] as const) {
      if (used && declared && !(used in declared)) {
        const at = what === 'runner' ? '/global/runner' : '/global/builder';
        report('error', 'NOT_IN_MANIFEST', at, `the ${what} "${used}" is not declared in the manifest's [${what}s]`);
      }
    }
  }
  const defaults: Params = {};
  for (const [k, p] of Object.entries(testcase?.params ?? {})) defaults[k] = paramDefault(p.default);

  // [[runs]], or the default run Testground synthesizes from the groups.
  const explicit = c.runs && c.runs.length > 0;
  const runs = explicit
    ? c.runs!.map((r, i) => ({ run: r, at: `/runs/${i}`, groupAt: (j: number) => `/runs/${i}/groups/${j}` }))
    : [
        {
          run: {
            id: 'default',
            total_instances: g.total_instances ?? 0,
            groups: groups.map((grp): TgRunGroup => ({
              ...(grp.id !== undefined && { id: grp.id, group_id: grp.id }),
              ...(grp.instances && { instances: grp.instances }),
              ...(grp.resources && { resources: grp.resources }),
            })),
          },
          at: '',
          groupAt: (j: number) => `/groups/${j}`,
        },
      ];
  const runIds = new Set<string>();
  const out: PreparedRun[] = [];
  for (const { run, at, groupAt } of runs) {
    if (!run.id) {
      report('error', 'MISSING_KEY', at, 'a [[runs]] entry has no id', 'key');
      continue;
    }
    if (runIds.has(run.id)) report('error', 'DUPLICATE_RUN', `${at}/id`, `run id "${run.id}" is used twice`);
    runIds.add(run.id);
    const rgIds = new Set<string>();
    const prepared: PreparedGroup[] = [];
    let usesPercentage = false;
    (run.groups ?? []).forEach((rg, j) => {
      const rgAt = groupAt(j);
      const id = rg.id;
      if (!id) return report('error', 'MISSING_KEY', rgAt, `run "${run.id}" has a group without an id`, 'key');
      if (rgIds.has(id))
        report('error', 'DUPLICATE_GROUP', `${rgAt}/id`, `run "${run.id}" has two groups with id "${id}"`);
      rgIds.add(id);
      const groupId = rg.group_id ?? id;
      const groupIndex = groups.findIndex((x) => x.id === groupId);
      if (groupIndex < 0) {
        const where = rg.group_id !== undefined ? `${rgAt}/group_id` : `${rgAt}/id`;
        return report(
          'error',
          'UNKNOWN_GROUP',
          where,
          `run "${run.id}" refers to group "${groupId}", which is not in [[groups]]`,
        );
      }
      const grp = groups[groupIndex]!;
      // Zero fields of a run-group are filled from its group.
      const count = rg.instances?.count || grp.instances?.count || 0;
      const percentage = rg.instances?.percentage || grp.instances?.percentage || 0;
      if (!count && percentage > 0) usesPercentage = true;
      const total = run.total_instances ?? 0;
      // Go's math.Round: half away from zero.
      const instances = count || Math.round(percentage * total);
      prepared.push({
        id,
        groupIndex,
        instances,
        params: fill(
          rg.test_params,
          fill(run.test_params, fill(grp.run?.test_params, fill(g.run?.test_params, defaults))),
        ),
        profiles: fill(rg.profiles, fill(grp.run?.profiles, g.run?.profiles)),
        builder: grp.builder ?? g.builder ?? '',
        ...(grp.run?.artifact ? { artifact: grp.run.artifact } : {}),
        // Shallow, per top-level key: group > global > the manifest's [builders."<builder>"].
        buildConfig: { ...builderDefaults(manifest, grp.builder ?? g.builder), ...g.build_config, ...grp.build_config },
        selectors: grp.build?.selectors?.length ? [...grp.build.selectors] : [...(g.build?.selectors ?? [])],
        dependencies: mergeDependencies(grp.build?.dependencies, g.build?.dependencies),
        resources: { ...grp.resources, ...rg.resources },
        at: rgAt,
      });
    });
    const configured = run.total_instances ?? 0;
    const computed = prepared.reduce((n, p) => n + p.instances, 0);
    const totalAt = explicit ? `${at}/total_instances` : '/global/total_instances';
    if (usesPercentage && configured === 0) {
      report(
        'error',
        'PERCENTAGE_WITHOUT_TOTAL',
        prepared.find((p) => p.instances === 0)?.at ?? at,
        `groups count percentage requires a total_instance configuration (run "${run.id}": set ` +
          `${explicit ? 'runs.total_instances' : 'global.total_instances'})`,
      );
    } else if (configured !== 0 && configured !== computed) {
      report(
        'error',
        'TOTAL_MISMATCH',
        totalAt,
        `total instances mismatch: computed: ${computed} != configured: ${configured} (run "${run.id}")`,
      );
    }
    const total = configured || computed;
    const limits = testcase?.instances;
    if (
      limits &&
      ((limits.min !== undefined && total < limits.min) || (limits.max !== undefined && total > limits.max))
    ) {
      report(
        'error',
        'OUT_OF_RANGE',
        explicit ? at : '/global',
        `run "${run.id}" has ${total} instances; the test case "${g.case}" takes ` +
          `${limits.min ?? 0} to ${limits.max ?? '∞'}`,
        'key',
      );
    }
    out.push({ id: run.id, total, groups: prepared, at });
  }
  if (explicit && out.length === 0) report('error', 'MISSING_KEY', '', 'a composition needs at least one run');
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
