import { join } from 'node:path';
import type { Plan } from '../../schema/ir.js';
import { k8sNames } from './render.js';
import { COORDINATOR_PORT, type RunOptions } from '../target.js';
import { pollInterval } from '../driver/poll-interval.js';

type Argv = readonly string[];

/**
 * Every command `tgc run --target k8s` issues, as argument vectors: the driver runs these and
 * `--dry-run` prints them, so the two cannot drift apart.
 */
export function k8sSteps(plan: Plan, o: RunOptions) {
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
    podLog: (pod: string) => kubectl('-n', ns, 'logs', pod, '-c', 'instance', '--tail=20'),
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

const line = (argv: Argv, comment?: string) => argv.join(' ') + (comment ? `  # ${comment}` : '');

/** `tgc run --target k8s`, step by step: what `--dry-run` prints, in order. */
export function k8sCommands(plan: Plan, o: RunOptions): string[] {
  const s = k8sSteps(plan, o);
  return [
    line(s.version),
    line(s.context),
    ...(o.namespace ? [line(s.getNamespace)] : [line(s.createNamespace), line(s.labelNamespace)]),
    `tgc compile ${o.planFile} --target k8s -o ${join(o.outDir, 'deploy')}  # in-process, with the run id ` +
      `${o.runId} in the labels`,
    line(s.apply),
    line(s.waitCoordinator),
    line(s.portForward, 'kept open while the run lasts'),
    `GET http://127.0.0.1:<forwarded port>/status  # every 250 ms until the run ends, then GET /results`,
    `${line(s.pods)}; ${line(s.podLog('<pod>'))}  # meanwhile every ${pollInterval(plan.totalInstances) / 1000} s: ` +
      'each instance container that ended, told to the coordinator (its exit code is its outcome if it reported none)',
    line(s.pods, 'instance pods: their names, indices and exit codes'),
    ...plan.groups.map((g) => line(s.logs(g.id, g.instances), `into ${join(o.outDir, 'logs')}/<group>-<index>.log`)),
    line(s.remove),
  ];
}
