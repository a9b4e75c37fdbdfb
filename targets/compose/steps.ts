import { join } from 'node:path';
import { instanceLayout } from '../../model/instance-layout.js';
import { COORDINATOR_PORT, type RunOptions } from '../target.js';

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
  lines.push(
    `tgc compile ${planFile} --target compose -o ${join(outDir, 'deploy')}  # in-process`,
    `${env} ${compose} up -d`,
    `${compose} logs -f --no-color ${instanceLayout(plan)
      .map((p) => p.name)
      .join(' ')}  # streamed until the run ends`,
    `docker ps -a --filter label=com.docker.compose.project=${project}; docker port <coordinator> ${COORDINATOR_PORT}`,
    `GET http://<that address>/status  # every 250 ms until the run ends, then GET /results`,
  );
  lines.push(`docker inspect --format '{{.State.Running}} {{.State.ExitCode}}' <every instance container>`);
  for (const p of instanceLayout(plan))
    lines.push(`docker logs <id of ${p.name}> > ${join(outDir, 'logs', `${p.name}.log`)}`);
  lines.push(`${compose} down -v --remove-orphans --timeout 5`);
  return lines;
}
