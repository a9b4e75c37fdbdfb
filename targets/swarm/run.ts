import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceLayout } from '../../model/instance-layout.js';
import { EnvironmentError } from '../driver/environment-error.js';
import { exec, sleep } from '../driver/exec.js';
import {
  containerExit,
  connectExitSink,
  instanceRoles,
  pollExits,
  type EndedInstance,
  type ExitSink,
} from '../driver/exit-sink.js';
import { finishRun, startBanner } from '../driver/finish-run.js';
import { followCoordinator } from '../driver/follow-coordinator.js';
import { guarded } from '../driver/guarded.js';
import { inParallel } from '../driver/in-parallel.js';
import { pollInterval } from '../driver/poll-interval.js';
import { writeOutput } from '../output-dir.js';
import { loadRuntimeBundle } from '../runtime-bundle.js';
import type { RunOptions } from '../target.js';
import { withImageCommands } from '../compose/image-commands.js';
import { freeControlSubnet } from '../compose/run.js';
import { RUNTIME_FILE, STACK_FILE, swarmRenderer } from './render.js';
import { deployStack, loadImages, type SwarmTask } from './swarm-cli.js';
import { swarmState } from './swarm-state.js';
import { fetchOutputs } from './outputs.js';
import { LostNodes } from './lost-nodes.js';
import { instanceServices } from './engine-services.js';
import { dockerSocket } from '../compose/engine-up.js';
import { DockerApi } from '../../runtime/agent/docker-api.js';
import { timing } from '../driver/timing.js';
import { removeVolumesOnceFree } from './remove-volumes.js';
import { processActions } from './process-actions.js';

/** Task states after which a task never runs again. */
const ENDED = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

/**
 * `tgc run --target swarm`: checks that the Docker CLI points at a swarm manager, loads the
 * run's images into the nodes it was given (`--node-host`), deploys the stack `tgc-<run id>` in
 * two steps (the runtime, then the instances once an agent runs on every node), follows the
 * coordinator at its node's address (at the run's port, on that node's network), reports exits
 * from the tasks, and collects logs (`docker service logs`) and outputs (shipped by the agents to
 * the coordinator); `docker stack rm` at the end, also on failure, a lost node, the deadline and Ctrl-C.
 */
export async function runSwarm(o: RunOptions): Promise<number> {
  const { plan, io } = o;
  const say = (line: string) => void (!o.json && io.stderr(line + '\n'));
  const runtimeImage = o.runtimeImage ?? plan.runtimeImage;
  const info = await exec(
    'docker',
    ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeID}}'],
    { env: o.env },
  );
  const [localState, control, self = ''] = info.stdout.trim().split(' ');
  if (info.code === 127) throw new EnvironmentError('docker is not installed: install the Docker CLI (docker.io)');
  if (info.code !== 0)
    throw new EnvironmentError(
      `the Docker engine is not reachable (${info.stderr.trim().split('\n').pop()}): set DOCKER_HOST or --context ` +
        'to a swarm manager',
    );
  if (localState !== 'active' || control !== 'true')
    throw new EnvironmentError(
      `the Docker engine tgc talks to is not a swarm manager (swarm: ${localState} ${control}): ` +
        "point DOCKER_HOST at a manager's engine, or make one (docker swarm init)",
    );
  const swarm = swarmState(o.env);
  const nodes = await swarm.nodes();
  const ready = nodes.filter((n) => n.state === 'ready');
  const nodeHosts = o.nodeHosts ?? {};
  const unknown = Object.keys(nodeHosts).filter((h) => !nodes.some((n) => n.hostname === h));
  if (unknown.length > 0)
    throw new EnvironmentError(
      `--node-host names no node of this swarm: ${unknown.join(', ')} ` +
        `(nodes: ${nodes.map((n) => n.hostname).join(', ')})`,
    );
  const images = [...new Set([runtimeImage, ...plan.groups.map((g) => g.image!)])];
  try {
    await loadImages(o.env, images, nodeHosts, say);
  } catch (err) {
    throw new EnvironmentError((err as Error).message);
  }
  // The engine tgc talks to has them (the build step's, or the caller's); the others need a way to them.
  const without = ready.filter((n) => !nodeHosts[n.hostname] && n.id !== self).map((n) => n.hostname);
  if (without.length > 0 && Object.keys(nodeHosts).length > 0)
    say(`tgc: no --node-host for ${without.join(', ')}: their engines must have or pull ${images.join(', ')}`);

  const stack = `tgc-${o.runId}`;
  const coordinatorPort = 20_000 + randomInt(10_000);
  const deployDir = join(o.outDir, 'deploy');
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  mkdirSync(join(o.outDir, 'outputs'), { recursive: true });
  writeOutput(
    deployDir,
    swarmRenderer.render(await withImageCommands(plan, o.env), {
      runtime: loadRuntimeBundle(),
      ...(o.runtimeImage && { runtimeImage: o.runtimeImage }),
    }),
  );
  const env: Record<string, string | undefined> = {
    ...o.env,
    TGC_RUN_ID: o.runId,
    TGC_START_TIME: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    // The overlay of a stack.yaml deployed whole (instances created through the API are on none).
    ...(!dockerSocket(o.env) && { TGC_CONTROL_SUBNET: await freeControlSubnet(plan) }),
    TGC_RUNTIME_IMAGE: runtimeImage,
    // The coordinator on the node tgc talks to, on its network at a port of this run (a clash with
    // another process there fails the run, saying so); it serves /results until tgc removes the stack.
    TGC_COORDINATOR_PLACEMENT: self ? `node.id == ${self}` : 'node.role == manager',
    TGC_COORDINATOR_HOST: nodes.find((n) => n.id === self)?.address ?? '',
    TGC_COORDINATOR_PORT: String(coordinatorPort),
    TGC_LINGER: '10m',
  };
  startBanner(o, `swarm (${ready.length} node${ready.length === 1 ? '' : 's'})`, 'userspace');
  const startedAt = new Date();
  const tick = timing(o, startedAt.getTime());
  let exitWatch: { close(): void } | undefined;
  let sink: ExitSink | undefined;
  let lastTasks: SwarmTask[] = [];
  /** Every task seen in the run (the swarm forgets those of services scaled down or removed). */
  const seen = new Map<string, SwarmTask>();
  const tasks = async () => {
    lastTasks = await swarm.tasks(stack).catch(() => lastTasks);
    for (const t of lastTasks) seen.set(t.id, t);
    return lastTasks;
  };
  const nodeOf = (t: SwarmTask) => nodes.find((n) => n.id === t.nodeId);
  const lost = new LostNodes();
  const ofStack = `label=com.docker.stack.namespace=${stack}`;

  const teardown = async () => {
    exitWatch?.close();
    const rm = await exec('docker', ['stack', 'rm', stack], { env });
    if (rm.code !== 0) {
      io.stderr(
        `tgc: docker stack rm ${stack} failed: ${rm.stderr.trim()}\nRemove it with: docker stack rm ${stack}\n`,
      );
      return;
    }
    // Removed once no task of it is left (networks go last; the agents then reap each node's volumes).
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const left = await exec('docker', ['network', 'ls', '-q', '--filter', ofStack], { env });
      // A lost node's tasks (and the networks they hold) stay until it is back: nobody waits for them.
      const tasksLeft = (await swarm.tasks(stack).catch(() => [])).filter((t) => !lost.has(t.nodeId));
      if (tasksLeft.length === 0 && (left.stdout.trim() === '' || nodes.some((n) => lost.has(n.id)))) {
        await removeVolumes();
        return;
      }
      await sleep(500);
    }
    io.stderr(`tgc: the stack ${stack} was still going 60 s after docker stack rm; see docker stack ps ${stack}\n`);
  };

  /**
   * The stack's volumes on the engines tgc reaches (this one, `--node-host`s), once their
   * containers are gone; on other nodes the agents' helpers remove them.
   */
  const removeVolumes = async () => {
    const reachable = Object.entries(nodeHosts).filter(([h]) => !nodes.some((n) => n.hostname === h && lost.has(n.id)));
    await removeVolumesOnceFree([env, ...reachable.map(([, url]) => ({ ...env, DOCKER_HOST: url }))], ofStack);
  };

  /** Logs of every instance that had a task: `docker service logs` gathers them from their nodes. */
  const collect = async (): Promise<Map<string, number | null>> => {
    const exits = new Map<string, number | null>();
    const byInstance = new Map([...seen.values()].map((t) => [t.service, t]));
    // Where each ran: the swarm forgets once the stack is removed.
    const placement = [...seen.values()].map((t) => ({
      service: t.service,
      node: nodeOf(t)?.hostname ?? t.nodeId,
      state: t.state,
      ...(t.exitCode !== undefined && ENDED.has(t.state) && { exit_code: t.exitCode }),
      ...(t.error && { error: t.error }),
    }));
    placement.sort((a, b) => a.service.localeCompare(b.service) || a.node.localeCompare(b.node));
    writeFileSync(join(o.outDir, 'tasks.json'), JSON.stringify(placement, null, 2) + '\n');
    await inParallel(
      instanceLayout(plan),
      async (p) => {
        const t = byInstance.get(p.name);
        exits.set(p.name, t && ENDED.has(t.state) && t.exitCode !== undefined ? t.exitCode : null);
        if (!t) return;
        const logs = await exec('docker', ['service', 'logs', '--raw', '--no-trunc', `${stack}_${p.name}`], { env });
        writeFileSync(join(o.outDir, 'logs', `${p.name}.log`), logs.stdout + logs.stderr);
      },
      8,
    );
    // The runtime's own, from every node: what a run that went wrong between the nodes needs.
    mkdirSync(join(o.outDir, 'logs', 'runtime'), { recursive: true });
    for (const service of ['agent', 'coordinator']) {
      const logs = await exec('docker', ['service', 'logs', '--timestamps', '--no-trunc', `${stack}_${service}`], {
        env,
      });
      writeFileSync(join(o.outDir, 'logs', 'runtime', `${service}.log`), logs.stdout + logs.stderr);
    }
    return exits;
  };

  return guarded(
    { signal: o.signal, say, collect, teardown, stopping: `removing the stack ${stack}` },
    async ({ interrupted, stop }) => {
      await deployStack(env, deployDir, stack, [RUNTIME_FILE]);
      // Instances start through the tools the agents put on each node: an agent on every node first.
      if (!(await agentsEverywhere(interrupted))) return await stop();
      tick('agents running');
      await deployInstances();
      tick('instances created');
      const url = await coordinatorUrl();
      const at = new URL(url);
      const act = processActions({ stack, env, self, nodeHosts, tasks, nodeOf, expect: (name) => sink?.expect(name) });
      sink = await connectExitSink({ host: at.hostname, port: Number(at.port) }, instanceRoles(plan), act);
      const reported = new Set<string>();
      exitWatch = pollExits(
        sink,
        async () => {
          const ended: EndedInstance[] = [];
          for (const t of await tasks()) {
            if (!ENDED.has(t.state) || t.service === 'agent' || t.service === 'coordinator') continue;
            // Each task's end once: a restarted instance's next task ends on its own.
            if (reported.has(t.id)) continue;
            reported.add(t.id);
            // Not started at all (no such image on its node, say): its error is its log.
            const log = async () =>
              t.error ||
              (await exec('docker', ['service', 'logs', '--raw', '--tail', '20', `${stack}_${t.service}`], { env }))
                .stdout;
            ended.push({ instance: t.service, exit: containerExit(t.exitCode ?? 1), log });
          }
          // An agent that failed leaves its node's instances without a network.
          for (const t of lastTasks) {
            if (t.service !== 'agent' || !['failed', 'rejected'].includes(t.state) || reported.has(t.id)) continue;
            reported.add(t.id);
            await sink!.abort(
              `the shaping agent on node ${nodeOf(t)?.hostname ?? t.nodeId} ${t.state}: ${t.error} ` +
                `(docker service logs ${stack}_agent)`,
            );
          }
          // A node lost mid-run: its instances will never report; the run fails, naming them.
          for (const { node: n, instances } of lost.check(await swarm.nodes().catch(() => nodes), lastTasks, ENDED))
            await sink!.abort(
              `node ${n.hostname} (${n.address}) is ${n.state}: lost with its instances ${instances.join(', ')}`,
            );
          return ended;
        },
        pollInterval(plan.totalInstances),
      );
      const results = await followCoordinator(url, o, {
        interrupted,
        what: `docker service logs ${stack}_coordinator`,
      });
      if (!results) return await stop();
      tick('results');
      // The instances end as their programs do, services (and stragglers) by a scale to 0 (SIGTERM,
      // then SIGKILL): the agents ship their outputs as they end.
      const runningNow = () =>
        lastTasks.filter(
          (t) => !ENDED.has(t.state) && !['agent', 'coordinator'].includes(t.service) && !lost.has(t.nodeId),
        );
      for (const until = Date.now() + 5_000; Date.now() < until; await sleep(300)) {
        await tasks();
        if (runningNow().length === 0) break;
      }
      const left = [...new Set(runningNow().map((t) => t.service))];
      if (left.length > 0)
        await exec('docker', ['service', 'scale', '--detach', ...left.map((s) => `${stack}_${s}=0`)], { env });
      for (const until = Date.now() + 20_000; left.length > 0 && Date.now() < until; await sleep(300)) {
        await tasks();
        if (runningNow().length === 0) break;
      }
      // Outputs ship as containers end: a lost node's never will.
      const ran = new Set([...seen.values()].filter((t) => t.containerId && !lost.has(t.nodeId)).map((t) => t.service));
      await fetchOutputs(
        url,
        instanceLayout(plan)
          .map((p) => p.name)
          .filter((n) => ran.has(n)),
        join(o.outDir, 'outputs'),
        say,
      );
      const exits = await collect();
      tick('logs');
      await teardown();
      tick('down');
      return finishRun(o, {
        target: 'swarm',
        backend: 'userspace',
        startedAt,
        results,
        exits,
        interrupted: interrupted(),
        addresses: new Map(instanceLayout(plan).map((p) => [p.name, p.dataIp])),
      });
    },
  );

  /** Waits until the shaping agent runs on every ready node; false when interrupted. */
  async function agentsEverywhere(interrupted: () => boolean): Promise<boolean> {
    const deadline = Date.now() + plan.timeoutMs;
    for (;;) {
      if (interrupted()) return false;
      const agents = (await tasks()).filter((t) => t.service === 'agent');
      const failed = agents.find((t) => ENDED.has(t.state));
      if (failed)
        throw new EnvironmentError(
          `the shaping agent on node ${nodeOf(failed)?.hostname ?? failed.nodeId} did not start: ` +
            `${failed.error || failed.state} (docker service logs ${stack}_agent)`,
        );
      const running = new Set(agents.filter((t) => t.state === 'running').map((t) => t.nodeId));
      if (ready.every((n) => running.has(n.id))) return true;
      if (Date.now() > deadline)
        throw new EnvironmentError(
          `the shaping agents were not running on every node by the run's deadline: ` +
            `${ready
              .filter((n) => !running.has(n.id))
              .map((n) => n.hostname)
              .join(', ')} had none`,
        );
      await sleep(100);
    }
  }

  /**
   * The instances: through the Engine API where it is a Unix socket — each instance's service
   * created on no network (instanceServices), 8 at a time — else `docker stack deploy` of the
   * whole stack (every instance then also on the control overlay).
   */
  async function deployInstances(): Promise<void> {
    const socket = dockerSocket(env);
    if (!socket) return deployStack(env, deployDir, stack, [STACK_FILE]);
    const api = new DockerApi(socket);
    const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.stack.namespace=${stack}`] }));
    const configs = await api.get<{ ID: string; Spec: { Name: string } }[]>(`/configs?filters=${filters}`);
    const services = instanceServices(readFileSync(join(deployDir, STACK_FILE), 'utf8'), {
      stack,
      env,
      configIds: new Map(configs.map((c) => [c.Spec.Name, c.ID])),
    });
    await inParallel(services, (svc) => api.call('POST', '/services/create', svc.spec), 8);
  }

  /** http://<its node's address>:<the run's port>, once the coordinator answers. */
  async function coordinatorUrl(): Promise<string> {
    for (const until = Date.now() + 120_000; ; await sleep(300)) {
      const t = (await tasks()).find((x) => x.service === 'coordinator');
      const node = t && nodeOf(t);
      const url = node && `http://${node.address}:${coordinatorPort}`;
      if (t && ENDED.has(t.state))
        throw new EnvironmentError(
          `the coordinator did not start: ${t.error || t.state}${
            node ? ` (port ${coordinatorPort} on node ${node.hostname}: is another process listening there?)` : ''
          }; docker service logs ${stack}_coordinator`,
        );
      if (t?.state === 'running' && url) {
        const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return url;
      }
      if (Date.now() > until)
        throw new EnvironmentError(
          `the coordinator was not reachable at its node's address within 120 s${url ? ` (${url})` : ''}: ` +
            "tgc must reach the nodes' addresses (docs/targets/swarm.md)",
        );
    }
  }
}
