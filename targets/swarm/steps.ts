import { join } from 'node:path';
import { instanceLayout } from '../../model/instance-layout.js';
import type { RunOptions } from '../target.js';
import { RUNTIME_FILE, STACK_FILE } from './render.js';
import { dockerSocket } from '../compose/engine-up.js';

/** The commands `tgc run --target swarm --dry-run` prints, in the order the driver issues them. */
export function swarmSteps(o: RunOptions): string[] {
  const { plan, planFile, runId, outDir } = o;
  const runtimeImage = o.runtimeImage ?? plan.runtimeImage;
  const stack = `tgc-${runId}`;
  const deploy = join(outDir, 'deploy');
  const images = [...new Set([runtimeImage, ...plan.groups.map((g) => g.image ?? `<the image ${g.id} builds>`)])];
  const socket = dockerSocket(o.env);
  const env =
    `TGC_RUN_ID=${runId}${socket ? '' : ' TGC_CONTROL_SUBNET=<a free /22 in 198.19.224.0/19>'} ` +
    `TGC_RUNTIME_IMAGE=${runtimeImage} ` +
    `TGC_COORDINATOR_PLACEMENT='node.id == <this engine's node>' TGC_COORDINATOR_HOST=<its address> ` +
    `TGC_COORDINATOR_PORT=<a port of this run, 20000-29999> TGC_LINGER=10m`;
  // The nodes and the stack's tasks: through the Engine API where it is a Unix socket (swarm-state.ts).
  const nodesCall = socket ? `GET /nodes` : `docker node ls -q; docker node inspect …`;
  const tasksCall = socket
    ? `GET /services?filters=<the stack's label>; GET /tasks?filters=<its services>`
    : `docker stack ps -q --no-trunc ${stack}; docker inspect --type task …`;
  const lines = [
    `docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeID}}'  # a manager`,
    `${nodesCall}  # each node's hostname, state and address`,
  ];
  // An image's id and an engine's answer: through the Engine API where it is a Unix socket (swarm-cli.ts).
  const each = `<each of ${images.join(', ')}>`;
  const imageIds = (env: RunOptions['env'], where: string) =>
    dockerSocket(env) ? `GET /images/${each}/json${where}` : `docker image inspect --format '{{.Id}}' ${each}${where}`;
  lines.push(`${imageIds(o.env, '')}  # on this engine`);
  for (const [node, url] of Object.entries(o.nodeHosts ?? {})) {
    const there = { ...o.env, DOCKER_HOST: url };
    const api = dockerSocket(there) !== undefined;
    const at = api ? ` (at ${url})` : '';
    lines.push(
      `${api ? 'GET /version' : `DOCKER_HOST=${url} docker version`}${at}  # node ${node}'s engine answers`,
      `${api ? '' : `DOCKER_HOST=${url} `}${imageIds(there, at)}  # node ${node}`,
      `docker save <those it lacks> | DOCKER_HOST=${url} docker load -q`,
    );
  }
  if (plan.groups.some((g) => !g.command))
    lines.push(
      `docker image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' <each image of a group ` +
        'without a command>  # its program, started once shaped',
    );
  lines.push(
    `tgc compile ${planFile} --target swarm -o ${deploy}  # in-process`,
    ...(socket ? [] : [`docker network ls -q; docker network inspect …  # subnets in use, to pick the control subnet`]),
    `(cd ${deploy} && ${env} docker stack deploy --resolve-image never -c ${RUNTIME_FILE} ${stack})`,
    `${tasksCall}  # until ${stack}_agent runs on every ready node`,
    socket
      ? `GET /configs?filters=…; POST /services/create  # each instance service of ${STACK_FILE}, on no network, ` +
          `8 at a time (the Engine API at ${socket})`
      : `(cd ${deploy} && ${env} docker stack deploy --resolve-image never -c ${STACK_FILE} ${stack})`,
    `${tasksCall}  # the coordinator's node`,
    `GET http://<that node's address>:<the run's port>/status  # every 250 ms until the run ends, then GET /results; ` +
      'meanwhile the tasks and nodes are polled for exits and lost nodes',
    `docker service scale --detach ${stack}_<instance>=0 …  # those still running once the run has ended ` +
      '(services): SIGTERM, then SIGKILL',
    `GET http://<that address>/outputs, GET …/outputs/<instance>  # unpacked into ${join(outDir, 'outputs')}`,
  );
  for (const p of instanceLayout(plan))
    lines.push(`docker service logs --raw --no-trunc ${stack}_${p.name} > ${join(outDir, 'logs', `${p.name}.log`)}`);
  lines.push(
    `docker stack rm ${stack}  # then until no task or network of it is left; each node's agent removes its volumes`,
  );
  return lines;
}
