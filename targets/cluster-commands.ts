import { join } from 'node:path';
import type { Plan } from '../schema/ir.js';
import { k8sNames } from './k8s/render.js';
import { nomadJobName, nomadServiceName } from './nomad/render.js';
import { COORDINATOR_PORT } from './target.js';

export interface ClusterRunOptions {
  readonly runId: string;
  readonly outDir: string;
  readonly planFile: string;
  /** k8s: an existing namespace to use (not created, not deleted). */
  readonly namespace?: string;
  /** k8s: a kubeconfig context other than the current one. */
  readonly context?: string;
}

type Argv = readonly string[];

/**
 * Every command `tgc run --target k8s` issues, as argument vectors: the driver runs these and
 * `--dry-run` prints them, so the two cannot drift apart.
 */
export function k8sSteps(plan: Plan, o: ClusterRunOptions) {
  const ns = o.namespace ?? `tgc-${o.runId}`;
  const kubectl = (...args: string[]): Argv => ['kubectl', ...(o.context ? ['--context', o.context] : []), ...args];
  const manifest = join(o.outDir, 'deploy', 'tgc.yaml');
  const selector = `app.kubernetes.io/instance=${o.runId}`;
  return {
    ns,
    manifest,
    version: ['kubectl', 'version', '--client'] as Argv,
    context: kubectl('config', 'current-context'),
    getNamespace: kubectl('get', 'namespace', ns),
    createNamespace: kubectl('create', 'namespace', ns),
    labelNamespace: kubectl('label', 'namespace', ns, 'app.kubernetes.io/managed-by=tgc', selector),
    apply: kubectl('-n', ns, 'apply', '-f', manifest),
    waitCoordinator: kubectl(
      '-n',
      ns,
      'wait',
      '--for=condition=Ready',
      'pod',
      '-l',
      `${selector},app.kubernetes.io/component=coordinator`,
      '--timeout=5m',
    ),
    portForward: kubectl('-n', ns, 'port-forward', `service/${k8sNames(plan).coordinator}`, `:${COORDINATOR_PORT}`),
    pods: kubectl('-n', ns, 'get', 'pods', '-l', `${selector},app.kubernetes.io/component=instance`, '-o', 'json'),
    logs: (group: string, instances: number) =>
      kubectl(
        '-n',
        ns,
        'logs',
        '-l',
        `${selector},tgc.dev/group=${group}`,
        '-c',
        'instance',
        '--prefix',
        '--tail=-1',
        `--max-log-requests=${Math.min(instances, 50)}`,
      ),
    remove: o.namespace
      ? kubectl('-n', ns, 'delete', '-f', manifest, '--wait=true', '--ignore-not-found')
      : kubectl('delete', 'namespace', ns, '--wait=true'),
  };
}

/** Every command `tgc run --target nomad` issues, as argument vectors (see `k8sSteps`). */
export function nomadSteps(plan: Plan, o: ClusterRunOptions) {
  const job = nomadJobName(plan, o.runId);
  const file = join(o.outDir, 'deploy', `${plan.name}.nomad.hcl`);
  return {
    job,
    file,
    version: ['nomad', 'version'] as Argv,
    status: ['nomad', 'status'] as Argv,
    validate: ['nomad', 'job', 'validate', file] as Argv,
    run: ['nomad', 'job', 'run', '-detach', file] as Argv,
    service: ['nomad', 'service', 'info', '-json', nomadServiceName(plan, o.runId)] as Argv,
    allocs: ['nomad', 'job', 'allocs', '-json', job] as Argv,
    stdout: (alloc: string): Argv => ['nomad', 'alloc', 'logs', alloc, 'instance'],
    stderr: (alloc: string): Argv => ['nomad', 'alloc', 'logs', '-stderr', alloc, 'instance'],
    stop: ['nomad', 'job', 'stop', '-purge', job] as Argv,
  };
}

const line = (argv: Argv, comment?: string) => argv.join(' ') + (comment ? `  # ${comment}` : '');

/** `tgc run --target k8s`, step by step: what `--dry-run` prints, in order. */
export function k8sCommands(plan: Plan, o: ClusterRunOptions): string[] {
  const s = k8sSteps(plan, o);
  return [
    line(s.version),
    line(s.context),
    ...(o.namespace ? [line(s.getNamespace)] : [line(s.createNamespace), line(s.labelNamespace)]),
    `tgc compile ${o.planFile} --target k8s -o ${join(o.outDir, 'deploy')}  # in-process, with the run id ${o.runId} in the labels`,
    line(s.apply),
    line(s.waitCoordinator),
    line(s.portForward, 'kept open while the run lasts'),
    `GET http://127.0.0.1:<forwarded port>/status  # every 250 ms until the run ends, then GET /results`,
    line(s.pods, 'instance pods: their names, indices and exit codes'),
    ...plan.groups.map((g) => line(s.logs(g.id, g.instances), `into ${join(o.outDir, 'logs')}/<group>-<index>.log`)),
    line(s.remove),
  ];
}

/** `tgc run --target nomad`, step by step: what `--dry-run` prints, in order. */
export function nomadCommands(plan: Plan, o: ClusterRunOptions): string[] {
  const s = nomadSteps(plan, o);
  return [
    line(s.version),
    line(s.status, 'reaches NOMAD_ADDR'),
    `tgc compile ${o.planFile} --target nomad -o ${join(o.outDir, 'deploy')}  # in-process, with the run id ${o.runId} in the job`,
    line(s.validate),
    line(s.run),
    line(s.service, 'every second until the coordinator is registered: its address'),
    `GET http://<that address>/status  # every 250 ms until the run ends, then GET /results`,
    line(s.allocs),
    ...plan.groups.map(
      (g) =>
        `${line(s.stdout(`<alloc of ${g.id}>`))}; ${line(s.stderr('<alloc>'))}  # each of the ${g.instances} allocation${g.instances === 1 ? '' : 's'}, into ${join(o.outDir, 'logs')}/`,
    ),
    line(s.stop),
  ];
}
