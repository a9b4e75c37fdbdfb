import { Document, Scalar, YAMLMap } from 'yaml';
import type { Group, Plan } from '../../schema/ir.js';
import { generatedEntrypoint } from '../build/dockerfiles.js';
import { shapingPlan } from '../../model/egress-plan.js';
import { peersList } from '../instance-env.js';
import { instanceLayout } from '../../model/instance-layout.js';
import { COORDINATOR_PORT, containerProblems, generatedHeader, type Renderer, type TargetProblem } from '../target.js';
import { coordinatorCommand } from '../driver/coordinator-command.js';
import { controlSubnet } from '../compose/control-subnet.js';
import {
  composeEscape,
  groupEnvNode,
  merged,
  mergePair,
  OUTPUTS,
  RUN_LABEL,
  runtimeFiles,
  STATE_DIR,
  SYNC_SCRIPT,
  TOOLS_DIR,
} from '../compose/render.js';

/** The stack's two files: the runtime alone (deployed first), and the whole stack. */
export const RUNTIME_FILE = 'runtime.yaml';
export const STACK_FILE = 'stack.yaml';

/**
 * Docker Swarm: a stack — the coordinator (on a manager), one shaping agent per node (a global
 * service: it shapes the instances on its node and exchanges their packets with the other nodes'
 * agents) and one service per instance; the runtime as swarm configs. The runtime is on the
 * nodes' own network (`host`): an overlay's set-up on every node took most of a run's start.
 * `runtime.yaml` is the stack's first half: the agents must run on every node before instances
 * start (they fill each node's `tgc-tools` volume with the gate instances start through).
 */
export const swarmRenderer: Renderer = {
  name: 'swarm',
  check: swarmProblems,
  render(plan, options) {
    const header = generatedHeader(plan);
    const files = new Map<string, string>();
    files.set(RUNTIME_FILE, renderStack(plan, options.runtimeImage ?? plan.runtimeImage, header, false));
    files.set(STACK_FILE, renderStack(plan, options.runtimeImage ?? plan.runtimeImage, header, true));
    for (const [path, text] of runtimeFiles(plan, options, header)) files.set(path, text);
    return files;
  },
};

function swarmProblems(plan: Plan): TargetProblem[] {
  const out = containerProblems(plan, 'swarm');
  if (plan.network.shaping === 'kernel' || plan.network.shaping === 'off') {
    out.push({
      pointer: '/network/shaping',
      code: 'TARGET_UNSUPPORTED',
      message:
        `the swarm target shapes with the userspace backend (each node's agent carries its instances' packets; ` +
        `swarm services get no fixed addresses on an overlay): use shaping = "auto" or "userspace"`,
    });
  }
  return out;
}

function renderStack(plan: Plan, runtimeImage: string, header: string, instances: boolean): string {
  const runId = `\${TGC_RUN_ID:-${plan.name}}`;
  const image = `\${TGC_RUNTIME_IMAGE:-${composeEscape(runtimeImage)}}`;
  // On its node's own network, at a port `tgc run` picks per run; the agents reach it at that
  // node's address (given by tgc run; by hand, they look for it among the managers).
  const port = `\${TGC_COORDINATOR_PORT:-${COORDINATOR_PORT}}`;
  const coordinator = `\${TGC_COORDINATOR_HOST:-}:${port}`;
  const layout = instanceLayout(plan);
  const labels = { [RUN_LABEL]: runId, 'dev.tgc.plan': plan.name };
  const doc = new Document({}, { merge: true, version: '1.1' });
  const never = { restart_policy: { condition: 'none' }, endpoint_mode: 'dnsrr' };

  const runtime = doc.createNode({
    image,
    labels: { ...labels, 'dev.tgc.component': 'runtime' },
    init: true,
    networks: ['hostnet'],
  }) as YAMLMap;
  runtime.anchor = 'tgc-runtime';
  const services: Record<string, unknown> = {};
  services.coordinator = merged(doc, runtime, {
    command: coordinatorCommand(plan, {
      script: '/tgc/coordinator.mjs',
      runId,
      port,
      agents: true,
      linger: '${TGC_LINGER:-30s}',
      // Exits are polled from the swarm's tasks (every second or more for big runs).
      exitGraceMs: 8000,
      ...(plan.events && { eventsFile: '/tgc/events.json' }),
    }),
    configs: [
      { source: 'coordinator', target: '/tgc/coordinator.mjs' },
      ...(plan.events ? [{ source: 'events', target: '/tgc/events.json' }] : []),
    ],
    deploy: { ...never, placement: { constraints: ['${TGC_COORDINATOR_PLACEMENT:-node.role == manager}'] } },
  });
  const addresses: Record<string, string[]> = {};
  for (const p of layout) (addresses[p.group] ??= []).push(p.dataIp);
  // One agent per node: it enters each instance's namespace through the host's /proc (a service
  // cannot share the host's pid namespace) as its container starts.
  services.agent = merged(doc, runtime, {
    command: [
      'node',
      '/tgc/agent.mjs',
      'host',
      '--backend',
      'userspace',
      '--state',
      STATE_DIR,
      '--proc',
      '/host/proc',
      // Any free UDP port of the node: the agents tell each other theirs through the coordinator.
      '--peers',
      '0',
      '--outputs',
      OUTPUTS,
      '--reap-volumes',
    ],
    environment: {
      TGC_COORDINATOR: coordinator,
      // Its container, which it cannot tell by its hostname on the host's network.
      TGC_AGENT_CONTAINER: '{{.Task.Name}}.{{.Task.ID}}',
      TGC_RUN_ID: runId,
      TGC_DATA_SUBNET: plan.network.subnet,
      TGC_SHAPING: composeEscape(JSON.stringify(shapingPlan(plan))),
    },
    cap_add: ['NET_ADMIN', 'SYS_ADMIN'],
    configs: [{ source: 'agent', target: '/tgc/agent.mjs' }],
    volumes: [
      '/proc:/host/proc:ro',
      '/var/run/docker.sock:/var/run/docker.sock',
      `tgc-state:${STATE_DIR}`,
      // The first on each node to mount it: Docker fills it with the runtime image's tools there.
      `tgc-tools:${TOOLS_DIR}`,
    ],
    deploy: { ...never, mode: 'global' },
  });

  const groups: Record<string, unknown> = {};
  if (instances) {
    const hostsList = doc.createNode(layout.flatMap((p) => [`${p.name}:${p.dataIp}`, `${p.group}:${p.dataIp}`]));
    hostsList.anchor = 'tgc-hosts';
    groups['x-tgc-hosts'] = hostsList;
    const peers = peersList(layout);
    const anchors = new Map<string, { service: YAMLMap; env: YAMLMap }>();
    for (const g of plan.groups) {
      const service = doc.createNode(groupService(g, labels)) as YAMLMap;
      service.anchor = g.id;
      const env = groupEnvNode(doc, plan, g, { coordinator: `127.0.0.1:${COORDINATOR_PORT}`, peers, runId });
      anchors.set(g.id, { service, env });
      groups[`x-tgc-group-${g.id}`] = service;
      groups[`x-tgc-env-${g.id}`] = env;
    }
    for (const p of layout) {
      const a = anchors.get(p.group)!;
      const env = doc.createNode({ TGC_INSTANCE: p.name, TGC_DATA_IP: p.dataIp }) as YAMLMap;
      env.items.unshift(mergePair(doc, a.env));
      services[p.name] = merged(doc, a.service, {
        environment: env,
        // Swarm attaches every service to a network: by hand, an overlay (the data interface is the
        // agent's TUN device, the coordinator its relay on loopback); tgc run creates them on none.
        networks: ['control'],
        extra_hosts: doc.createAlias(hostsList),
      });
    }
  }

  const configs: Record<string, unknown> = {
    coordinator: { file: './tgc/coordinator.mjs' },
    agent: { file: './tgc/agent.mjs' },
    sync: { file: './tgc/sync.mjs' },
    wrapper: { file: './tgc/tgc' },
    ...(plan.events && { events: { file: './tgc/events.json' } }),
  };
  doc.contents = doc.createNode({
    version: '3.8',
    'x-tgc-runtime': runtime,
    ...groups,
    services,
    networks: {
      hostnet: { external: true, name: 'host' },
      ...(instances && {
        control: {
          driver: 'overlay',
          attachable: true,
          labels: { ...labels },
          ipam: { config: [{ subnet: `\${TGC_CONTROL_SUBNET:-${controlSubnet(plan)!}}` }] },
        },
      }),
    },
    volumes: { 'tgc-tools': { labels: { ...labels } }, 'tgc-state': { labels: { ...labels } } },
    configs,
  }) as YAMLMap;
  const count = `${plan.totalInstances} instance${plan.totalInstances === 1 ? '' : 's'}`;
  doc.commentBefore = instances
    ? ` ${header}\n Plan "${plan.name}": ${count} on Docker Swarm, shaping userspace.\n` +
      ` Run: docker stack deploy -c ${RUNTIME_FILE} NAME, wait until the agent runs on every node\n` +
      ` (docker service ls: NAME_agent n/n), then docker stack deploy -c ${STACK_FILE} NAME;\n` +
      ' docker service logs -f NAME_coordinator; docker stack rm NAME (docs/targets/swarm.md)'
    : ` ${header}\n Plan "${plan.name}": the stack's runtime (coordinator, agents), deployed before ${STACK_FILE}.`;
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

/** The settings every instance of a group shares. */
function groupService(g: Group, labels: Record<string, string>): Record<string, unknown> {
  if (!g.image) throw new Error(`group ${g.id} has no image (its build runs before the swarm target renders)`);
  const s: Record<string, unknown> = { image: composeEscape(g.image) };
  // The program starts once the node's agent has set up this container's network; an image's own
  // program is unknown here: it starts at once (`tgc run` looks the image up and gates it too).
  const command = g.command ?? (g.build && generatedEntrypoint(g.build));
  if (command) s.entrypoint = [`${TOOLS_DIR}/tgc-sync`, 'exec-shaped', '--', ...command].map(composeEscape);
  s.labels = { ...labels, 'dev.tgc.component': 'instance', 'dev.tgc.group': g.id };
  s.volumes = [
    `tgc-tools:${TOOLS_DIR}:ro`,
    `tgc-state:${STATE_DIR}:ro`,
    // Outputs stay in the container (an anonymous volume) until the agent ships them to the coordinator.
    OUTPUTS,
  ];
  s.configs = [
    { source: 'wrapper', target: '/usr/bin/tgc', mode: octal(0o555) },
    { source: 'sync', target: SYNC_SCRIPT },
  ];
  const limits: Record<string, string> = {};
  if (g.resources.cpuMillis !== undefined) limits.cpus = String(g.resources.cpuMillis / 1000);
  if (g.resources.memoryBytes !== undefined) limits.memory = String(g.resources.memoryBytes);
  s.deploy = {
    restart_policy: { condition: 'none' },
    endpoint_mode: 'dnsrr',
    ...(Object.keys(limits).length > 0 && { resources: { limits } }),
  };
  return s;
}

function octal(n: number): Scalar {
  const s = new Scalar(n);
  s.format = 'OCT';
  return s;
}
