import { join } from 'node:path';
import { instanceLayout } from '../../model/instance-layout.js';
import { COORDINATOR_PORT, type RunOptions } from '../target.js';
import { AT_ONCE, dockerSocket } from './engine-up.js';

/** The commands `tgc run --target compose --dry-run` prints, in the order the driver issues them. */
export function composeSteps(o: RunOptions): string[] {
  const { plan, planFile, runId, outDir } = o;
  const runtimeImage = o.runtimeImage ?? plan.runtimeImage;
  const project = `tgc-${runId}`;
  const compose = `docker compose -p ${project} -f ${join(outDir, 'deploy', 'compose.yaml')}`;
  const env =
    `TGC_RUN_ID=${runId} TGC_CONTROL_SUBNET=<a free /22 in 198.19.224.0/19> ` +
    `TGC_RUNTIME_IMAGE=${runtimeImage} TGC_OUTPUTS_DIR=${join(outDir, 'outputs')}`;
  const lines = [
    `docker info --format '{{.ServerVersion}}'`,
    'docker compose version  # else docker-compose (v1.29), found on PATH, replaces docker compose below',
    `docker image inspect --format '{{.Id}}' ${runtimeImage}  # the runtime image is there`,
    `docker network ls -q; docker network inspect …  # subnets in use, to pick the control subnet`,
  ];
  if (plan.network.shaping === 'auto')
    lines.push(
      `docker run --rm --network none --cap-add NET_ADMIN ${runtimeImage} tc qdisc add dev lo root netem delay 1ms` +
        '  # auto: kernel if it works, else userspace',
    );
  const socket = dockerSocket(o.env);
  const api = (what: string) => `${what}  # the Engine API at ${socket}`;
  if (plan.network.shaping !== 'off' && plan.groups.some((g) => !g.command))
    lines.push(
      `docker image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' <each image of a group ` +
        'without a command>  # its program, started once shaped',
    );
  lines.push(`tgc compile ${planFile} --target compose -o ${join(outDir, 'deploy')}  # in-process`);
  if (socket)
    lines.push(
      api(`POST /networks/create, POST /volumes/create  # ${project}_<each network and volume of compose.yaml>`),
      api(
        `POST /containers/create?name=${project}_<service>_1, POST /networks/<more>/connect, ` +
          `POST /containers/<id>/start  # each service of compose.yaml (${env}), ${AT_ONCE} at a time, ` +
          'after those it depends on (a network_mode: none one with networking disabled, ' +
          `${join(outDir, 'deploy/tgc/hosts')}/<service> as its /etc/hosts)`,
      ),
    );
  else lines.push(`${env} ${compose} up -d`);
  lines.push(
    `${compose} logs -f --no-color ${instanceLayout(plan)
      .map((p) => p.name)
      .join(' ')}  # streamed until the run ends`,
    `docker ps -a --filter label=com.docker.compose.project=${project}; docker port <coordinator> ${COORDINATOR_PORT}`,
    `GET http://<that address>/status  # every 250 ms until the run ends, then GET /results`,
  );
  if (socket) {
    for (const p of instanceLayout(plan))
      lines.push(api(`GET /containers/<id of ${p.name}>/json, GET …/logs > ${join(outDir, 'logs', `${p.name}.log`)}`));
    lines.push(
      api(
        `DELETE /containers/<id>?force=true&v=true  # every container labelled ` +
          `com.docker.compose.project=${project}, ${AT_ONCE} at a time; then its networks and volumes`,
      ),
    );
    return lines;
  }
  lines.push(`docker inspect --format '{{.State.Running}} {{.State.ExitCode}}' <every instance container>`);
  for (const p of instanceLayout(plan))
    lines.push(`docker logs <id of ${p.name}> > ${join(outDir, 'logs', `${p.name}.log`)}`);
  lines.push(`${compose} down -v --remove-orphans --timeout 5`);
  return lines;
}
