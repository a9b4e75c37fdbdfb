import { join } from 'node:path';
import type { Plan } from '../schema/ir.js';
import { k8sNames } from './k8s/render-k8s.js';
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

/** `tgc run --target k8s`, step by step: what `--dry-run` prints, in order. */
export function k8sCommands(plan: Plan, o: ClusterRunOptions): string[] {
  const ns = o.namespace ?? `tgc-${o.runId}`;
  const kubectl = `kubectl${o.context ? ` --context ${o.context}` : ''}`;
  const names = k8sNames(plan);
  const manifest = join(o.outDir, 'deploy', 'tgc.yaml');
  const selector = `app.kubernetes.io/instance=${o.runId}`;
  return [
    'kubectl version --client',
    `${kubectl} config current-context`,
    ...(o.namespace ? [`${kubectl} get namespace ${ns}`] : [`${kubectl} create namespace ${ns}`, `${kubectl} label namespace ${ns} app.kubernetes.io/managed-by=tgc ${selector}`]),
    `tgc compile ${o.planFile} --target k8s -o ${join(o.outDir, 'deploy')}  # in-process, with the run id ${o.runId} in the labels`,
    `${kubectl} -n ${ns} apply -f ${manifest}`,
    `${kubectl} -n ${ns} wait --for=condition=Ready pod -l ${selector},app.kubernetes.io/component=coordinator --timeout=5m`,
    `${kubectl} -n ${ns} port-forward service/${names.coordinator} :${COORDINATOR_PORT}  # kept open while the run lasts`,
    `GET http://127.0.0.1:<forwarded port>/status  # every 250 ms until the run ends, then GET /results`,
    ...plan.groups.map((g) => `${kubectl} -n ${ns} logs -l ${selector},tgc.dev/group=${g.id} -c instance --prefix --tail=-1 --max-log-requests=${Math.min(g.instances, 50)}  # into ${join(o.outDir, 'logs')}/`),
    o.namespace ? `${kubectl} -n ${ns} delete -f ${manifest} --wait=true` : `${kubectl} delete namespace ${ns} --wait=true`,
  ];
}

/** `tgc run --target nomad`, step by step: what `--dry-run` prints, in order. */
export function nomadCommands(plan: Plan, o: ClusterRunOptions): string[] {
  const job = `tgc-${plan.name}`;
  const file = join(o.outDir, 'deploy', `${plan.name}.nomad.hcl`);
  return [
    'nomad version',
    'nomad status  # reaches NOMAD_ADDR',
    `tgc compile ${o.planFile} --target nomad -o ${join(o.outDir, 'deploy')}  # in-process, with the run id ${o.runId} in the job's meta`,
    `nomad job validate ${file}`,
    `nomad job run -detach ${file}`,
    `nomad service info -json tgc-${plan.name}-coordinator  # the coordinator's address, once healthy`,
    `GET http://<that address>/status  # every 250 ms until the run ends, then GET /results`,
    `nomad job allocs -json ${job}`,
    ...plan.groups.map((g) => `nomad alloc logs <alloc of ${g.id}> instance; nomad alloc logs -stderr <alloc> instance; nomad alloc fs <alloc> alloc/outputs  # each of the ${g.instances} allocation${g.instances === 1 ? '' : 's'}, into ${o.outDir}/`),
    `nomad job stop -purge ${job}`,
  ];
}
