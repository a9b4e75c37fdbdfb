import { basename, dirname, posix, relative, resolve } from 'node:path';
import { dnsLabel } from '../../model/dns-label.js';
import type { BuildSpec, Composition, GroupSpec } from '../../schema/composition.js';
import type { Report } from './prepare.js';
import type { PreparedGroup, PreparedRun, TgComposition } from './types.js';

export interface ToCompositionOptions {
  /** The composition file (relative paths in it are relative to its directory). */
  readonly file: string;
  /** The plan directory: the manifest's, else the composition's. */
  readonly planDir: string;
  readonly planName: string;
  /** Where it will run: the artifact is a program on the local target, an image on the others. */
  readonly target: string;
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
    } else {
      const build = testgroundBuild(p, c, rel(o.planDir), report);
      if (build) spec.build = build;
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

/**
 * A group's Testground build as a tgc build: docker:go and exec:go are Go builds (an image with
 * the generated Dockerfile on the container targets, go build on the local one), docker:node the
 * generated Node.js Dockerfile, docker:generic the plan's Dockerfile at `path`, with the plan
 * under `plan/` in its context as Testground packs it. `context` is the plan directory.
 */
function testgroundBuild(p: PreparedGroup, c: TgComposition, context: string, report: Report): BuildSpec | undefined {
  const cfg = p.buildConfig;
  const group = c.groups?.[p.groupIndex];
  // Where a key was written: the group's build_config, else the global one (else the group).
  const cfgAt = (key: string) =>
    group?.build_config && key in group.build_config
      ? `/groups/${p.groupIndex}/build_config/${key}`
      : c.global?.build_config && key in c.global.build_config
        ? `/global/build_config/${key}`
        : `/groups/${p.groupIndex}`;
  const str = (k: string) => (typeof cfg[k] === 'string' && cfg[k] !== '' ? (cfg[k] as string) : undefined);
  if (p.builder === 'docker:generic') {
    const path = str('path') ?? './';
    const args = { ...(cfg.build_args as Record<string, string> | undefined) };
    // Testground passes the plan's path to the Dockerfile when the composition does not.
    if (args.PLAN_PATH === undefined) args.PLAN_PATH = path;
    return { context, context_prefix: 'plan', dockerfile: posix.join(path, 'Dockerfile'), args };
  }
  if (p.builder === 'docker:node') {
    const base = str('base_image');
    return { context, kind: 'node', ...(base !== undefined && { base_image: base }) };
  }
  if (p.builder !== 'docker:go' && p.builder !== 'exec:go') return undefined;
  const build: BuildSpec = { context, kind: 'go' };
  const docker = p.builder === 'docker:go';
  if (docker) {
    const path = str('path');
    if (path !== undefined && posix.normalize(path).replace(/\/+$/, '') !== '.') build.path = path;
    if (str('modfile')) build.modfile = str('modfile')!;
    if (str('build_base_image')) build.base_image = str('build_base_image')!;
    if (str('runtime_image')) build.runtime_image = str('runtime_image')!;
    if (cfg.skip_runtime_image === true) build.skip_runtime_image = true;
    if (cfg.enable_cgo === true) build.enable_cgo = true;
    const hooks = cfg.dockerfile_extensions as Record<string, string> | undefined;
    if (hooks && Object.values(hooks).some(Boolean))
      build.dockerfile_extensions = Object.fromEntries(Object.entries(hooks).filter(([, v]) => v));
    const mode = str('go_proxy_mode') ?? 'local';
    if (mode === 'direct') build.go_proxy = 'direct';
    else if (mode === 'remote') {
      if (str('go_proxy_url')) build.go_proxy = str('go_proxy_url')!;
      else report('error', 'MISSING_KEY', cfgAt('go_proxy_mode'), 'go_proxy_mode = "remote" needs go_proxy_url', 'key');
    } else if (mode !== 'local') {
      report('error', 'BAD_VALUE', cfgAt('go_proxy_mode'), `go_proxy_mode is "${mode}": use local, direct or remote`);
    }
  }
  if (str('exec_pkg')) build.exec_pkg = str('exec_pkg')!;
  if (cfg.fresh_gomod === true) {
    if (str('module_path')) Object.assign(build, { fresh_gomod: true, module_path: str('module_path') });
    else
      report(
        'error',
        'MISSING_KEY',
        cfgAt('fresh_gomod'),
        'fresh_gomod = true makes a go.mod with go mod init <module_path>: set module_path',
        'key',
      );
  }
  if (p.selectors.length > 0) build.tags = [...p.selectors];
  const deps = p.dependencies.filter((d) => {
    if (d.module && d.version) return true;
    const own = group?.build?.dependencies?.indexOf(d) ?? -1;
    const global = c.global?.build?.dependencies?.indexOf(d) ?? -1;
    const at =
      own >= 0
        ? `/groups/${p.groupIndex}/build/dependencies/${own}`
        : global >= 0
          ? `/global/build/dependencies/${global}`
          : `/groups/${p.groupIndex}`;
    report('error', 'MISSING_KEY', at, `the build dependency "${d.module}" has no version`, 'key');
    return false;
  });
  if (deps.length > 0)
    build.replace = deps.map((d) => ({
      module: d.module!,
      version: d.version!,
      ...(d.target && { target: d.target }),
    }));
  return build;
}
