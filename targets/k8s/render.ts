import type { Group, Plan } from '../../schema/ir.js';
import { classification, shapingPlan } from '../../model/egress-plan.js';
import { emitYaml } from './emit-yaml.js';
import { instanceEnv } from '../instance-env.js';
import { COORDINATOR_PORT, containerProblems, generatedHeader, type RenderOptions, type Renderer } from '../target.js';
import { coordinatorCommand, eventsJson } from '../driver/coordinator-command.js';
import { pollInterval } from '../driver/poll-interval.js';
import { toolsCommand } from '../tools-command.js';

const OUTPUTS = '/tgc/outputs';
/** Pods have one interface: the agent shapes it, finding it as the first non-loopback IPv4 one. */
const ANY_SUBNET = '0.0.0.0/0';

/** Names of a plan's objects: stable, derived from the plan name and group ids only. */
export function k8sNames(plan: Plan): { runtime: string; coordinator: string; group: (id: string) => string } {
  return {
    runtime: `tgc-${plan.name}-runtime`,
    coordinator: `tgc-${plan.name}-coordinator`,
    group: (id) => `tgc-${plan.name}-${id}`,
  };
}

/**
 * The Kubernetes target: one multi-document `tgc.yaml` — the runtime in a ConfigMap, the
 * coordinator as a Job with a Service, and one Indexed Job per group whose pods run the
 * instance next to a shaping container (NET_ADMIN) that applies the plan's links with tc.
 * No namespace is set: `kubectl -n` (or `tgc run --namespace`) picks it. O(groups) in size.
 */
export const k8sRenderer: Renderer = {
  name: 'k8s',
  check: (plan) => containerProblems(plan, 'k8s'),
  render(plan, options) {
    const header = generatedHeader(plan);
    const docs = k8sObjects(plan, options);
    const body = docs.map(emitYaml).join('---\n');
    return new Map([
      [
        'tgc.yaml',
        `# ${header}\n# Plan "${plan.name}": ${plan.totalInstances} ` +
          `instance${plan.totalInstances === 1 ? '' : 's'} in ${plan.groups.length} Indexed ` +
          `Job${plan.groups.length === 1 ? '' : 's'}, shaping ` +
          `${plan.network.shaping === 'off' ? 'off' : 'kernel (tc)'}.\n# Apply into a namespace of its own: kubectl ` +
          `create namespace NS && kubectl -n NS apply -f tgc.yaml\n${body}`,
      ],
    ]);
  },
};

/** The objects, in apply order. Keys in the order reviewers expect: apiVersion, kind, metadata, then the rest. */
export function k8sObjects(plan: Plan, options: RenderOptions): Record<string, unknown>[] {
  const names = k8sNames(plan);
  const runId = options.runId ?? plan.name;
  const image = options.runtimeImage ?? plan.runtimeImage;
  const shaped = plan.network.shaping !== 'off';
  const labels = (component: string, extra: Record<string, string> = {}) => ({
    'app.kubernetes.io/name': plan.name,
    'app.kubernetes.io/instance': runId,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'tgc',
    ...extra,
  });
  const runtimeVolume = { name: 'tgc-runtime', configMap: { name: names.runtime } };
  const runtimeMount = { name: 'tgc-runtime', mountPath: '/tgc/runtime', readOnly: true };
  const coordinatorAddress = `${names.coordinator}:${COORDINATOR_PORT}`;

  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: names.runtime, labels: labels('runtime') },
    // The shapes once, for every group's shaping container (as a file: O(groups), not O(groups²)).
    data: {
      'agent.mjs': options.runtime.agent,
      'coordinator.mjs': options.runtime.coordinator,
      'shaping.json': JSON.stringify(shapingPlan(plan, classification(plan, 'k8s'))),
      ...(plan.events && { 'events.json': eventsJson(plan)! }),
    },
  };
  const coordinatorLabels = labels('coordinator');
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: names.coordinator, labels: coordinatorLabels },
    spec: {
      selector: { 'app.kubernetes.io/instance': runId, 'app.kubernetes.io/component': 'coordinator' },
      ports: [{ name: 'tgc', port: COORDINATOR_PORT, targetPort: COORDINATOR_PORT }],
    },
  };
  const coordinator = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: names.coordinator, labels: coordinatorLabels },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: coordinatorLabels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'coordinator',
              image,
              command: coordinatorCommand(plan, {
                script: '/tgc/runtime/coordinator.mjs',
                runId: '$(TGC_RUN_ID)',
                agents: shaped,
                linger: '30s',
                eventsFile: '/tgc/runtime/events.json',
                exitGraceMs: pollInterval(plan.totalInstances) + 5000,
              }),
              env: [
                {
                  name: 'TGC_RUN_ID',
                  valueFrom: { fieldRef: { fieldPath: "metadata.labels['app.kubernetes.io/instance']" } },
                },
              ],
              ports: [{ name: 'tgc', containerPort: COORDINATOR_PORT }],
              readinessProbe: { httpGet: { path: '/healthz', port: COORDINATOR_PORT }, periodSeconds: 1 },
              volumeMounts: [runtimeMount],
            },
          ],
          volumes: [runtimeVolume],
        },
      },
    },
  };
  const groups = plan.groups.map((g) =>
    groupJob(plan, g, { names, labels, image, shaped, coordinatorAddress, runtimeVolume, runtimeMount }),
  );
  // Names: a headless Service per group, so `<group>` resolves to all of its pods' addresses and,
  // with the pods' subdomain, each instance to its own: `<job>-<index>.<group>`.
  const peers = plan.groups.map((g) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: g.id, labels: labels('instance', { 'tgc.dev/group': g.id }) },
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { 'app.kubernetes.io/instance': runId, 'tgc.dev/group': g.id },
    },
  }));
  return [configMap, service, coordinator, ...groups, ...peers];
}

interface GroupContext {
  readonly names: ReturnType<typeof k8sNames>;
  readonly labels: (component: string, extra?: Record<string, string>) => Record<string, string>;
  readonly image: string;
  readonly shaped: boolean;
  readonly coordinatorAddress: string;
  readonly runtimeVolume: Record<string, unknown>;
  readonly runtimeMount: Record<string, unknown>;
}

function groupJob(plan: Plan, g: Group, c: GroupContext): Record<string, unknown> {
  const labels = c.labels('instance', { 'tgc.dev/group': g.id });
  // Values Kubernetes fills in: the run id from the pod's label, the index from the Indexed Job.
  const fromPod = [
    { name: 'TGC_RUN_ID', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app.kubernetes.io/instance']" } } },
    {
      name: 'TGC_INDEX',
      valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
    },
    { name: 'TGC_DATA_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
  ];
  const env = instanceEnv(plan, g, {
    runId: '$(TGC_RUN_ID)',
    instance: `${g.id}-$(TGC_INDEX)`,
    coordinator: c.coordinatorAddress,
    outputs: OUTPUTS,
    subnet: ANY_SUBNET,
  });
  // `$(NAME)` is Kubernetes' own expansion: user strings get `$$(` so they arrive as written.
  const escape = (v: string) => v.replace(/\$\(/g, '$$$$(');
  const own = new Set(['TGC_RUN_ID', 'TEST_RUN', 'TGC_INSTANCE']);
  const envList = [
    ...fromPod,
    ...Object.entries(env)
      .filter(([name]) => !fromPod.some((f) => f.name === name))
      .map(([name, value]) => ({ name, value: own.has(name) ? value : escape(value) })),
  ];
  const resources: Record<string, string> = {};
  if (g.resources.cpuMillis !== undefined) resources.cpu = `${g.resources.cpuMillis}m`;
  if (g.resources.memoryBytes !== undefined) resources.memory = String(g.resources.memoryBytes);
  const instance: Record<string, unknown> = {
    name: 'instance',
    image: g.image,
    ...(g.command && { command: g.command.map(escape) }),
    env: envList,
    ...(Object.keys(resources).length > 0 && { resources: { requests: resources, limits: resources } }),
    volumeMounts: [
      { name: 'tgc-outputs', mountPath: OUTPUTS },
      // tgc sync (docs/sync-cli.md): the runtime image's static executable, which the init container copied.
      { name: 'tgc-tools', mountPath: '/usr/bin/tgc', subPath: 'tgc', readOnly: true },
    ],
  };
  const containers: Record<string, unknown>[] = [instance];
  if (c.shaped) {
    containers.push({
      name: 'shaping',
      image: c.image,
      command: ['node', '/tgc/runtime/agent.mjs', 'kernel', '--shaping', '/tgc/runtime/shaping.json'],
      env: [
        ...fromPod.slice(0, 2),
        { name: 'TGC_INSTANCE', value: `${g.id}-$(TGC_INDEX)` },
        { name: 'TGC_GROUP', value: g.id },
        { name: 'TGC_COORDINATOR', value: c.coordinatorAddress },
        { name: 'TGC_DATA_SUBNET', value: ANY_SUBNET },
      ],
      securityContext: { capabilities: { add: ['NET_ADMIN'] } },
      volumeMounts: [c.runtimeMount],
    });
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: c.names.group(g.id), labels },
    spec: {
      completionMode: 'Indexed',
      completions: g.instances,
      parallelism: g.instances,
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // With the group's headless Service: the pod is `<job>-<index>.<group>` in DNS.
          subdomain: g.id,
          initContainers: [
            {
              name: 'tgc-tools',
              image: c.image,
              command: toolsCommand('/tgc/tools/tgc'),
              volumeMounts: [{ name: 'tgc-tools', mountPath: '/tgc/tools' }],
            },
          ],
          containers,
          volumes: [
            { name: 'tgc-outputs', emptyDir: {} },
            { name: 'tgc-tools', emptyDir: {} },
            ...(c.shaped ? [c.runtimeVolume] : []),
          ],
        },
      },
    },
  };
}
