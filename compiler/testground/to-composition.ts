import { basename, dirname, relative, resolve } from 'node:path';
import { dnsLabel } from '../../model/dns-label.js';
import type { Composition, GroupSpec } from '../../schema/composition.js';
import type { Report } from './prepare.js';
import type { PreparedRun, TgComposition } from './types.js';

export interface ToCompositionOptions {
  /** The composition file (relative paths in it are relative to its directory). */
  readonly file: string;
  /** The plan directory: the manifest's, else the composition's. */
  readonly planDir: string;
  readonly planName: string;
  /** Where it will run: the artifact is a program on the local target, an image on the others. */
  readonly target: string;
  /** `--image` specs (`IMAGE` or `GROUP=IMAGE`): a group they cover needs no artifact. */
  readonly images?: readonly string[];
}

/** Testground's plan name as instances see it (`/` → `-`), and a DNS-label name for tgc. */
export function planNames(raw: string): { testPlan: string; name: string } {
  const testPlan = raw.replace(/\//g, '-');
  return { testPlan, name: dnsLabel(testPlan) };
}

/**
 * One prepared run as a tgc composition (the same document `tgc convert` writes), and which
 * canonical pointer of the Testground composition each of its places comes from.
 */
export function toComposition(
  c: TgComposition,
  run: PreparedRun,
  o: ToCompositionOptions,
  report: Report,
): { composition: Composition; from: Map<string, string> } {
  const g = c.global ?? {};
  const from = new Map<string, string>([
    ['/name', '/global/plan'],
    ['/testground', '/global'],
    ['/testground/case', '/global/case'],
  ]);
  const { testPlan, name } = planNames(o.planName);
  const compositionDir = dirname(resolve(o.file));
  const rel = (p: string) => relative(compositionDir, p) || '.';
  const groups: GroupSpec[] = [];
  for (const p of run.groups) {
    if (p.instances === 0) {
      report('warning', 'ZERO_INSTANCES', p.at, `group "${p.id}" has no instances in run "${run.id}": left out`, 'key');
      continue;
    }
    const at = `/groups/${groups.length}`;
    from.set(at, p.at);
    from.set(`${at}/id`, `${p.at}/id`);
    from.set(`${at}/instances`, `${p.at}/instances`);
    from.set(`${at}/resources`, `${p.at}/resources`);
    // tgc group ids are DNS labels; the program still sees Testground's id as TEST_GROUP_ID.
    const id = dnsLabel(p.id);
    const spec: GroupSpec = { id, instances: p.instances };
    if (p.artifact) {
      if (o.target === 'local') spec.command = [p.artifact];
      else spec.image = p.artifact;
    } else if (p.builder === 'docker:generic') {
      const cfg = p.buildConfig;
      const context = resolve(o.planDir, typeof cfg.path === 'string' ? cfg.path : '.');
      const args =
        cfg.build_args && typeof cfg.build_args === 'object' ? (cfg.build_args as Record<string, string>) : {};
      spec.build = { context: rel(context), ...(Object.keys(args).length > 0 && { args: { ...args } }) };
    } else if (p.builder === 'exec:go' && o.target === 'local') {
      // go build of the plan directory, as Testground's exec:go builder does.
      spec.build = { context: rel(o.planDir), kind: 'go' };
    } else if (!(o.images ?? []).some((i) => !/^[^=/:]+=/.test(i) || i.startsWith(`${id}=`))) {
      const groupAt = `/groups/${p.groupIndex}`;
      report(
        'error',
        'UNSUPPORTED_BUILDER',
        c.groups?.[p.groupIndex]?.builder ? `${groupAt}/builder` : '/global/builder',
        `group "${p.id}" is built with ${p.builder || 'no builder'}, which tgc does not run ` +
          `${p.builder === 'exec:go' ? `on the ${o.target} target` : 'itself'}: build it yourself and set ` +
          `groups.run.artifact (a program for the local target, an image for the others), or give the image ` +
          `with tgc run --image ${id}=IMAGE`,
      );
    }
    spec.params = { ...p.params };
    const hasProfiles = Object.keys(p.profiles).length > 0;
    if (id !== p.id || hasProfiles) {
      spec.testground = { ...(id !== p.id && { group_id: p.id }), ...(hasProfiles && { profiles: { ...p.profiles } }) };
    }
    const resources = {
      ...(p.resources.cpu && { cpu: p.resources.cpu }),
      ...(p.resources.memory && { memory: p.resources.memory }),
    };
    if (Object.keys(resources).length > 0) spec.resources = resources;
    groups.push(spec);
  }
  const ports = g.run_config?.exposed_ports;
  const exposed =
    ports && typeof ports === 'object' && !Array.isArray(ports)
      ? Object.fromEntries(Object.entries(ports as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
      : {};
  const composition: Composition = {
    version: 1,
    name,
    description: `Testground composition ${basename(o.file)}: plan ${testPlan}, case ${g.case ?? ''}, run ${run.id}`,
    testground: {
      plan: testPlan,
      case: g.case ?? '',
      run: run.id,
      ...(g.runner && { runner: g.runner }),
      ...(g.disable_metrics && { disable_metrics: true }),
      ...(Object.keys(exposed).length > 0 && { exposed_ports: exposed }),
    },
    groups,
  };
  return { composition, from };
}
