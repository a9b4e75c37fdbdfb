import { posix } from 'node:path';
import { generatedDockerfile, generatedEntrypoint } from '../build/dockerfiles.js';
import { Document, isMap, Pair, Scalar, YAMLMap, type Alias } from 'yaml';
import { controlSubnet } from './control-subnet.js';
import type { Group, Plan } from '../../schema/ir.js';
import { classification, shapingPlan } from '../../model/egress-plan.js';
import { instanceEnv, peersList } from '../instance-env.js';
import { instanceLayout } from '../../model/instance-layout.js';
import { COORDINATOR_PORT, containerProblems, generatedHeader, type RenderOptions, type Renderer } from '../target.js';
import { coordinatorCommand, eventsJson } from '../driver/coordinator-command.js';

/** The label every container and network of a run carries: its value is the run id. */
export const RUN_LABEL = 'dev.tgc.run';
/** Where the host agent marks each instance shaped (a volume, read-only in instances). */
export const STATE_DIR = '/tgc-state';
export const OUTPUTS = '/tgc/outputs';
/**
 * Where instances' containers get `tgc sync`: a wrapper on the PATH (/usr/bin/tgc) runs the runtime
 * image's static executable, which the coordinator's container shares through the `tgc-tools`
 * volume, else the Node.js one with the container's node.
 */
export const TOOLS_DIR = '/usr/local/lib/tgc';
export const SYNC_SCRIPT = '/usr/local/lib/tgc-sync.mjs';

/** `$` starts an interpolation in compose files; user strings get `$$` so they arrive as written. */
export function composeEscape(s: string): string {
  return s.replace(/\$/g, '$$$$');
}

/** The compose backend a plan gets: kernel or userspace, or none when shaping is off. */
export function composeBackend(plan: Plan, resolved?: 'kernel' | 'userspace'): 'kernel' | 'userspace' | 'off' {
  if (plan.network.shaping === 'off') return 'off';
  if (plan.network.shaping === 'kernel' || plan.network.shaping === 'userspace') return plan.network.shaping;
  return resolved ?? 'userspace';
}

/**
 * The compose target: `compose.yaml` with the coordinator, one container per instance and one
 * shaping agent for all of them (it enters each instance's network namespace as it starts); the
 * runtime in `tgc/`. A group's settings are written once (an `x-tgc-group-<id>` anchor) and
 * merged into each of its instances.
 */
export const composeRenderer: Renderer = {
  name: 'compose',
  check: (plan) => containerProblems(plan, 'compose'),
  render(plan, options) {
    const header = generatedHeader(plan);
    const files = new Map<string, string>();
    files.set('compose.yaml', renderComposeFile(plan, options, header));
    // Builds without a Dockerfile of their own (kind go, node): the generated one, per group.
    for (const g of plan.groups) {
      const dockerfile = g.build && generatedDockerfile(g.build, header);
      if (dockerfile) files.set(generatedDockerfilePath(g), dockerfile);
    }
    for (const [path, text] of runtimeFiles(plan, options, header)) files.set(path, text);
    return files;
  },
};

/** The runtime a container deployment carries in `tgc/`: coordinator, agent, `tgc sync`, events. */
export function runtimeFiles(plan: Plan, options: RenderOptions, header: string): Map<string, string> {
  const files = new Map<string, string>();
  files.set('tgc/agent.mjs', `// ${header}\n${options.runtime.agent}`);
  files.set('tgc/coordinator.mjs', `// ${header}\n${options.runtime.coordinator}`);
  files.set('tgc/sync.mjs', `// ${header}\n${options.runtime.sync}`);
  const events = eventsJson(plan);
  if (events) files.set('tgc/events.json', events);
  files.set(
    'tgc/tgc',
    `#!/bin/sh\n# ${header}\n` +
      "# tgc inside an instance's container: `tgc sync …` (docs/sync-cli.md): the runtime image's\n" +
      "# static executable, else the Node.js one with the container's node.\n" +
      `[ -x ${TOOLS_DIR}/tgc-sync ] && exec ${TOOLS_DIR}/tgc-sync "$@"\n` +
      `[ "$1" = sync ] && shift\nexec node ${SYNC_SCRIPT} "$@"\n`,
  );
  return files;
}

function renderComposeFile(plan: Plan, options: RenderOptions, header: string): string {
  const backend = composeBackend(plan, options.shaping);
  const runId = `\${TGC_RUN_ID:-${plan.name}}`;
  const image = `\${TGC_RUNTIME_IMAGE:-${composeEscape(options.runtimeImage ?? plan.runtimeImage)}}`;
  const coordinator = `coordinator:${COORDINATOR_PORT}`;
  // Shaped instances reach the coordinator on their own loopback, relayed by the host agent.
  const reach = backend === 'off' ? coordinator : `127.0.0.1:${COORDINATOR_PORT}`;
  const layout = instanceLayout(plan);
  const peers = peersList(layout);
  const serviceNames = layout
    .filter((p) => plan.groups.find((g) => g.id === p.group)!.role === 'service')
    .map((p) => p.name);
  const labels = { [RUN_LABEL]: runId, 'dev.tgc.plan': plan.name };
  // YAML 1.1, as docker-compose (PyYAML) reads it: strings such as "on" and "no" are then quoted.
  const doc = new Document({}, { merge: true, version: '1.1' });
  // Every instance and group name resolves to data addresses: entries in each container's
  // /etc/hosts, one list (anchored once, aliased by each service: the file grows with N, not N²).
  const hostsList = doc.createNode(layout.flatMap((p) => [`${p.name}:${p.dataIp}`, `${p.group}:${p.dataIp}`]));
  hostsList.anchor = 'tgc-hosts';
  const extraHosts = () => doc.createAlias(hostsList);

  const runtime = doc.createNode({
    image,
    labels: { ...labels, 'dev.tgc.component': 'runtime' },
    volumes: ['./tgc:/tgc:ro'],
    init: true,
  }) as YAMLMap;
  runtime.anchor = 'tgc-runtime';

  const groupAnchors = new Map<string, { service: YAMLMap; env: YAMLMap }>();
  const groups: Record<string, unknown> = {};
  for (const g of plan.groups) {
    const service = doc.createNode(groupService(g, options, labels, backend !== 'off')) as YAMLMap;
    service.anchor = g.id;
    const env = groupEnvNode(doc, plan, g, { coordinator: reach, peers, runId });
    groupAnchors.set(g.id, { service, env });
    groups[`x-tgc-group-${g.id}`] = service;
    groups[`x-tgc-env-${g.id}`] = env;
  }

  const services: Record<string, unknown> = {};
  services.coordinator = merged(doc, runtime, {
    command: coordinatorCommand(plan, {
      script: '/tgc/coordinator.mjs',
      runId,
      agents: backend !== 'off',
      linger: '${TGC_LINGER:-10s}',
      exitGraceMs: 3000,
      eventsFile: '/tgc/events.json',
    }),
    // The first container to mount the volume: Docker fills it with the image's files there.
    volumes: ['./tgc:/tgc:ro', `tgc-tools:${TOOLS_DIR}`],
    networks: ['control'],
    // A free host port on loopback, so `tgc run` can follow /status without a route to the network.
    ports: [`127.0.0.1::${COORDINATOR_PORT}`],
  });
  if (backend !== 'off') {
    const addresses: Record<string, string[]> = {};
    for (const p of layout) (addresses[p.group] ??= []).push(p.dataIp);
    const kernel = backend === 'kernel';
    // One agent for every instance on the Docker host: it enters each instance's network namespace
    // (by its pid, so it shares the host's pid namespace) as the container starts.
    services.agent = merged(doc, runtime, {
      command: ['node', '/tgc/agent.mjs', 'host', '--backend', backend, '--state', STATE_DIR],
      environment: {
        TGC_COORDINATOR: coordinator,
        TGC_RUN_ID: runId,
        TGC_DATA_SUBNET: plan.network.subnet,
        TGC_SHAPING: composeEscape(
          JSON.stringify(
            kernel ? { ...shapingPlan(plan, classification(plan, 'compose')), addresses } : shapingPlan(plan),
          ),
        ),
      },
      pid: 'host',
      cap_add: ['NET_ADMIN', 'SYS_ADMIN'],
      ...(!kernel && { devices: ['/dev/net/tun'] }),
      volumes: [
        './tgc:/tgc:ro',
        '${TGC_DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock',
        `tgc-state:${STATE_DIR}`,
      ],
      networks: ['control'],
    });
  }

  for (const p of layout) {
    const anchors = groupAnchors.get(p.group)!;
    const env = doc.createNode({ TGC_INSTANCE: p.name, TGC_DATA_IP: p.dataIp }) as YAMLMap;
    env.items.unshift(mergePair(doc, anchors.env));
    // The coordinator need only have started: the SDK retries its connection for a minute.
    const dependsOn: Record<string, { condition: string }> = { coordinator: { condition: 'service_started' } };
    // The agent shapes each instance as it starts; the entry point waits for it (`exec-shaped`).
    if (backend !== 'off') dependsOn.agent = { condition: 'service_started' };
    // Test instances start once the services (the programs under test) are running.
    if (plan.groups.find((g) => g.id === p.group)!.role !== 'service') {
      for (const s of serviceNames) dependsOn[s] = { condition: 'service_started' };
    }
    // Outputs go straight to the host: `${TGC_OUTPUTS_DIR:-./outputs}/<instance>` (tgc run points it into
    // the run directory).
    const instance: Record<string, unknown> = {
      environment: env,
      depends_on: dependsOn,
      volumes: [
        `\${TGC_OUTPUTS_DIR:-./outputs}/${p.name}:${OUTPUTS}`,
        // /usr/bin: on the PATH of every image (/usr/local/bin is not always).
        './tgc/tgc:/usr/bin/tgc:ro',
        `./tgc/sync.mjs:${SYNC_SCRIPT}:ro`,
        `tgc-tools:${TOOLS_DIR}:ro`,
        ...(backend === 'off' ? [] : [`tgc-state:${STATE_DIR}:ro`]),
      ],
      // Userspace: no Docker network at all (the agent adds the data interface, a TUN device, and
      // relays the coordinator); kernel: the data network alone.
      ...(backend === 'userspace'
        ? { network_mode: 'none' }
        : {
            networks:
              backend === 'kernel'
                ? { data: { ipv4_address: p.dataIp } }
                : { control: {}, data: { ipv4_address: p.dataIp } },
          }),
      extra_hosts: extraHosts(),
    };
    services[p.name] = merged(doc, anchors.service, instance);
  }

  const networks: Record<string, unknown> = {
    control: { labels, ipam: { config: [{ subnet: `\${TGC_CONTROL_SUBNET:-${controlSubnet(plan)!}}` }] } },
  };
  if (backend !== 'userspace') networks.data = { labels, ipam: { config: [{ subnet: plan.network.subnet }] } };
  doc.contents = doc.createNode({
    'x-tgc-runtime': runtime,
    'x-tgc-hosts': hostsList,
    ...groups,
    services,
    networks,
    volumes: {
      'tgc-tools': { labels: { ...labels } },
      ...(backend !== 'off' && { 'tgc-state': { labels: { ...labels } } }),
    },
  }) as YAMLMap;
  const instances = `${plan.totalInstances} instance${plan.totalInstances === 1 ? '' : 's'}`;
  const auto = plan.network.shaping === 'auto' && backend !== 'off' ? ' (auto)' : '';
  doc.commentBefore =
    ` ${header}\n Plan "${plan.name}": ${instances}, shaping ${backend}${auto}.\n` +
    ' Run: docker compose up -d && docker compose logs -f coordinator; docker compose down';
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

/**
 * A group's environment in a compose-format file (compose, swarm), anchored `<group>-env` for its
 * instances to merge: the run id and start time left for the file's interpolation (`tgc run` sets
 * TGC_RUN_ID and TGC_START_TIME), every other value escaped; each instance adds its own name.
 */
export function groupEnvNode(
  doc: Document,
  plan: Plan,
  g: Group,
  o: { readonly coordinator: string; readonly peers: string; readonly runId: string },
): YAMLMap {
  const site = { runId: '', instance: '', coordinator: o.coordinator, outputs: OUTPUTS, peers: o.peers };
  const env = doc.createNode(
    escapeValues(instanceEnv(plan, g, site), ['TGC_INSTANCE', 'TGC_RUN_ID', 'TEST_RUN', 'TEST_START_TIME']),
  ) as YAMLMap;
  env.delete('TGC_INSTANCE');
  env.set('TGC_RUN_ID', o.runId);
  env.set('TEST_RUN', o.runId);
  if (plan.testground) env.set('TEST_START_TIME', '${TGC_START_TIME:-}');
  env.anchor = `${g.id}-env`;
  return env;
}

/** The settings every instance of a group shares. */
function groupService(
  g: Group,
  options: RenderOptions,
  labels: Record<string, string>,
  shaped: boolean,
): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  if (g.image) s.image = composeEscape(g.image);
  if (g.build) {
    const context = posix.join(options.planDir ?? '.', g.build.context);
    const generated = g.build.kind !== undefined;
    const args: Record<string, string> = escapeValues(g.build.args);
    // A Go build's GOPROXY: the plan's (in the Dockerfile), else the environment's at build time.
    if (g.build.kind === 'go' && g.build.go?.proxy === undefined) args.GO_PROXY = '${GOPROXY:-}';
    s.build = {
      context,
      // The generated Dockerfile lives in the deployment, outside the context: compose sends it along.
      ...(generated
        ? { dockerfile: options.dockerfileFromContext?.[g.id] ?? fromContext(context, generatedDockerfilePath(g)) }
        : g.build.dockerfile !== undefined && { dockerfile: g.build.dockerfile }),
      ...(Object.keys(args).length > 0 && { args }),
    };
  }
  // Shaped: the program starts once the agent has set up this container's network (`tgc-sync
  // exec-shaped` waits for the agent's marker, then runs it in its place): the plan's command, or
  // what tgc's generated Dockerfile runs. An image's own program is unknown here: it starts at once
  // (`tgc run` looks the image up and gates it too; docs/targets/compose.md).
  const command = g.command ?? (g.build && generatedEntrypoint(g.build));
  if (command)
    s.entrypoint = [...(shaped ? [`${TOOLS_DIR}/tgc-sync`, 'exec-shaped', '--'] : []), ...command].map(composeEscape);
  s.labels = { ...labels, 'dev.tgc.component': 'instance', 'dev.tgc.group': g.id };
  if (g.resources.cpuMillis !== undefined) s.cpus = g.resources.cpuMillis / 1000;
  if (g.resources.memoryBytes !== undefined) s.mem_limit = g.resources.memoryBytes;
  return s;
}

export function escapeValues(
  env: Readonly<Record<string, string>>,
  except: readonly string[] = [],
): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, except.includes(k) ? v : composeEscape(v)]));
}

export function mergePair(doc: Document, anchored: YAMLMap): Pair<Scalar, Alias> {
  return new Pair(doc.createNode('<<') as Scalar, doc.createAlias(anchored));
}

/** A service that merges an anchored map (`<<: *anchor`) and adds its own keys. */
export function merged(doc: Document, anchored: YAMLMap, own: Record<string, unknown>): YAMLMap {
  const node = doc.createNode(own) as YAMLMap;
  if (!isMap(node)) throw new Error('a service is a map');
  node.items.unshift(mergePair(doc, anchored));
  return node;
}

/** Where a group's generated Dockerfile goes in the deployment. */
export function generatedDockerfilePath(g: Group): string {
  return `build/${g.id}/Dockerfile`;
}

/**
 * `file` as compose reads it from `context`, both relative to the deployment directory: exact
 * when the context is inside it (a stand-in root; the caller knows better otherwise).
 */
function fromContext(context: string, file: string): string {
  const root = `/${'d/'.repeat(64)}`;
  return posix.relative(posix.join(root, context), posix.join(root, file));
}
