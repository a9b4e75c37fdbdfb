import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { execa } from 'execa';
import { instanceLayout } from '../../model/instance-layout.js';
import type { Plan } from '../../schema/ir.js';
import { reportExits, type ExitReporter } from './report-exits.js';
import { instanceRoles } from '../driver/exit-sink.js';
import { EnvironmentError } from '../driver/environment-error.js';
import { exec } from '../driver/exec.js';
import { finishRun, startBanner } from '../driver/finish-run.js';
import { followCoordinator, resultsFromLog } from '../driver/follow-coordinator.js';
import { guarded } from '../driver/guarded.js';
import { writeOutput } from '../output-dir.js';
import { loadRuntimeBundle } from '../runtime-bundle.js';
import { COORDINATOR_PORT, type RunOptions } from '../target.js';
import { controlSubnet } from './control-subnet.js';
import { composeBackend, composeRenderer, RUN_LABEL } from './render.js';
import { startComposeReaper, type Reaper } from '../driver/reaper.js';
import { demuxLogs, DockerApi } from '../../runtime/agent/docker-api.js';
import { inParallel } from '../driver/in-parallel.js';
import { engineSpec } from './engine-spec.js';
import { withImageCommands } from './image-commands.js';
import { AT_ONCE, dockerSocket, engineDown, engineUp } from './engine-up.js';
import { timing } from '../driver/timing.js';

/** `docker compose` (v2) when the plugin is there, else `docker-compose` (v1.29); undefined when neither runs. */
async function detectCompose(): Promise<readonly string[] | undefined> {
  if ((await exec('docker', ['compose', 'version'])).code === 0) return ['docker', 'compose'];
  // Found, not run: v1 is a Python program, and starting it once costs 0.4 s.
  if ((await exec('sh', ['-c', 'command -v docker-compose'])).code === 0) return ['docker-compose'];
  return undefined;
}

/** A control subnet no Docker network uses (nor any in `avoid`) and clear of the data subnet. */
export async function freeControlSubnet(plan: Plan, avoid: readonly string[] = []): Promise<string> {
  const ids = (await exec('docker', ['network', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  const inspect = ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', ...ids];
  const used =
    ids.length === 0 ? [] : (await exec('docker', inspect)).stdout.split(/\s+/).filter((s) => s.includes('/'));
  const free = controlSubnet(plan, [...used, ...avoid]);
  if (!free) {
    throw new EnvironmentError(
      'no free control subnet in 198.19.224.0/19 or 198.18.224.0/22 (Docker networks use them all): ' +
        'remove stale networks (docker network prune)',
    );
  }
  return free;
}

/**
 * `tgc run --target compose`: renders the deployment into the run directory, brings it up under
 * the project `tgc-<run id>`, follows the coordinator's /status, collects results, logs and
 * outputs, and takes everything down — also on failure, timeout and Ctrl-C.
 */
export async function runCompose(o: RunOptions): Promise<number> {
  const { plan, io } = o;
  const say = (line: string) => {
    if (!o.json) io.stderr(line + '\n');
  };
  const runtimeImage = o.runtimeImage ?? plan.runtimeImage;
  // Independent checks, at once: each is a process start.
  const [info, compose, image] = await Promise.all([
    exec('docker', ['info', '--format', '{{.ServerVersion}}']),
    detectCompose(),
    exec('docker', ['image', 'inspect', '--format', '{{.Id}}', runtimeImage]),
  ]);
  if (info.code === 127)
    throw new EnvironmentError(
      'docker is not installed: install Docker Engine (apt-get install docker.io) and Compose ' +
        '(docker-compose-plugin or docker-compose)',
    );
  if (info.code !== 0)
    throw new EnvironmentError(
      `the Docker daemon is not reachable (${info.stderr.trim().split('\n').pop()}): start it (systemctl start ` +
        `docker) or set DOCKER_HOST`,
    );
  if (!compose)
    throw new EnvironmentError(
      'neither docker compose (v2) nor docker-compose (v1.29) runs: install docker-compose-plugin or docker-compose',
    );
  if (image.code !== 0) {
    throw new EnvironmentError(
      `the runtime image ${runtimeImage} is not on this Docker host: build it (docker build -t ${runtimeImage} ` +
        `-f images/runtime/Dockerfile ., or images/offline-runtime.sh ${runtimeImage} without a registry) or name ` +
        `another with --runtime-image`,
    );
  }
  // The control subnet's search (docker network ls, inspect) beside the netem probe (a container).
  const freeSubnet = freeControlSubnet(plan);
  freeSubnet.catch(() => undefined);
  let shaping: 'kernel' | 'userspace' | undefined;
  let how = '';
  if (plan.network.shaping === 'auto') {
    const probe = await exec('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '--cap-add',
      'NET_ADMIN',
      runtimeImage,
      'tc',
      'qdisc',
      'add',
      'dev',
      'lo',
      'root',
      'netem',
      'delay',
      '1ms',
    ]);
    shaping = probe.code === 0 ? 'kernel' : 'userspace';
    how = probe.code === 0 ? ' (auto: sch_netem works)' : ' (auto: no sch_netem on the Docker host)';
  }
  const backend = composeBackend(plan, shaping);
  const controlSubnet = await freeSubnet;
  const project = `tgc-${o.runId}`;
  const deployDir = join(o.outDir, 'deploy');
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  mkdirSync(join(o.outDir, 'outputs'), { recursive: true });
  writeOutput(
    deployDir,
    composeRenderer.render(backend === 'off' ? plan : await withImageCommands(plan, o.env), {
      runtime: loadRuntimeBundle(),
      ...(shaping && { shaping }),
      ...(o.runtimeImage && { runtimeImage: o.runtimeImage }),
      planDir:
        relative(resolve(deployDir), dirname(resolve(o.planFile)))
          .split(sep)
          .join('/') || '.',
    }),
  );
  const env: Record<string, string | undefined> = {
    ...o.env,
    TGC_RUN_ID: o.runId,
    TGC_START_TIME: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    TGC_CONTROL_SUBNET: controlSubnet,
    TGC_RUNTIME_IMAGE: runtimeImage,
    TGC_OUTPUTS_DIR: resolve(o.outDir, 'outputs'),
    // The coordinator serves /results until tgc takes the run down (by hand: 10 s after the end).
    TGC_LINGER: '10m',
  };
  const base = [...compose.slice(1), '-p', project, '-f', join(deployDir, 'compose.yaml')];
  const run = (args: readonly string[]) => exec(compose[0]!, [...base, ...args], { env });
  // Up through the Engine API where it is a Unix socket: containers start in parallel, bounded by
  // Docker (compose v1 starts them nearly one by one); elsewhere `docker compose up -d`. Logs, ps and
  // down stay compose's: the containers carry compose's labels.
  const socket = dockerSocket(env);
  const api = socket ? new DockerApi(socket) : undefined;
  const up = async (enough: () => boolean): Promise<{ code: number; stderr: string }> => {
    if (!api) return run(['up', '-d']);
    try {
      const spec = engineSpec(readFileSync(join(deployDir, 'compose.yaml'), 'utf8'), { project, dir: deployDir, env });
      const skipped = await engineUp(api, spec, { enough });
      if (skipped.length > 0 && !o.signal.aborted)
        say(`tgc: the run's deadline passed before ${skipped.length} containers were started; they never were`);
      return { code: 0, stderr: '' };
    } catch (err) {
      return { code: 1, stderr: (err as Error).message };
    }
  };
  // Everything of the project, the way it was brought up. Built images stay: they are the build
  // cache (tgc build, docs/composition.md, Builds).
  const takeDown = async (): Promise<{ code: number; stderr: string }> => {
    if (!api) return run(['down', '-v', '--remove-orphans', '--timeout', '5']);
    return engineDown(api, project).then(
      () => ({ code: 0, stderr: '' }),
      (err: Error) => ({ code: 1, stderr: err.message }),
    );
  };
  startBanner(o, `compose (${socket ? 'the Engine API' : compose.join(' ')})`, `${backend}${how}`);

  const startedAt = new Date();
  const tick = timing(o, startedAt.getTime());
  let follower: { kill(signal?: NodeJS.Signals): boolean } | undefined;
  let exitReporter: ExitReporter | undefined;
  let reaper: Reaper | undefined;
  const teardown = async () => {
    follower?.kill('SIGTERM');
    exitReporter?.close();
    const down = await takeDown();
    // Taken down: the reaper has nothing left to do (after a failed down, it tries once more).
    if (down.code === 0) reaper?.dismiss();
    if (down.code !== 0)
      io.stderr(
        `tgc: taking the deployment down failed: ${down.stderr.trim()}\n` +
          `Remove what is left with: docker ps -aq --filter label=${RUN_LABEL}=${o.runId} | xargs -r docker rm -f; ` +
          `docker network prune --filter ` +
          `label=${RUN_LABEL}=${o.runId}\n`,
      );
  };
  return guarded(
    { signal: o.signal, say, collect, teardown, stopping: 'taking the deployment down' },
    async ({ interrupted, stop }) => {
      // A reaper beside this tgc takes the project down should tgc be killed (SIGKILL) mid-run.
      reaper = startComposeReaper(o.runId, env);
      // Every group has its image by now: tgc run built what the plan builds before this.
      // Containers still to start when the run's deadline passes never are: the coordinator has
      // ended the run by then, and says which instances never registered.
      const deadline = Date.now() + plan.timeoutMs;
      const enough = () => interrupted() || Date.now() > deadline;
      let upped = await up(enough);
      // Another run took the same control subnet between the pick and `up`: take the next one.
      for (
        const tried = [env.TGC_CONTROL_SUBNET!];
        upped.code !== 0 && /overlap/i.test(upped.stderr) && tried.length < 4 && !interrupted();
      ) {
        await takeDown();
        env.TGC_CONTROL_SUBNET = await freeControlSubnet(plan, tried);
        tried.push(env.TGC_CONTROL_SUBNET);
        upped = await up(enough);
      }
      if (interrupted()) return await stop();
      if (upped.code !== 0) throw new EnvironmentError(`docker compose up failed:\n${upped.stderr.trim()}`);
      tick('up');
      if (!o.json) {
        // The instances' logs only: the runtime's (coordinator, agents) are in `docker compose logs`.
        const logs = execa(
          compose[0]!,
          [...base, 'logs', '-f', '--no-color', ...instanceLayout(plan).map((p) => p.name)],
          {
            env,
            extendEnv: false,
            stdin: 'ignore',
            stderr: 'ignore',
            buffer: false,
            reject: false,
          },
        );
        follower = logs;
        logs.stdout.on('data', (d: Buffer) => {
          if (io.tty) io.stderr('\r\x1b[K');
          io.stdout(d.toString('utf8'));
        });
      }
      const coordinatorId = (await containers()).get('coordinator');
      const port = coordinatorId ? await publishedPort(coordinatorId) : '';
      if (!/:[0-9]+$/.test(port))
        throw new EnvironmentError(`the coordinator publishes no port (docker port said "${port}")`);
      const url = `http://${port.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`;
      // How each instance's container ends is its outcome when it reported none.
      exitReporter = await reportExits({
        coordinator: { host: '127.0.0.1', port: Number(port.slice(port.lastIndexOf(':') + 1)) },
        runId: o.runId,
        instances: instanceRoles(plan),
        containerOf: async (name) => (await containers()).get(name),
        env,
      });
      const results = await followCoordinator(url, o, {
        interrupted,
        what: `docker compose -p ${project} logs coordinator`,
      }).catch(async (err: unknown) => {
        // Its HTTP port unreachable (a host under load): the results it printed, if it ended.
        const printed = resultsFromLog((await exec('docker', ['logs', coordinatorId!])).stdout);
        if (printed) return printed;
        throw err;
      });
      if (!results) return await stop();
      tick('results');
      const exits = await collect();
      tick('collected');
      await teardown();
      tick('down');
      const addresses = new Map(instanceLayout(plan).map((p) => [p.name, p.dataIp]));
      return finishRun(o, {
        target: 'compose',
        backend,
        startedAt,
        results,
        exits,
        interrupted: interrupted(),
        addresses,
      });
    },
  );

  /** HOST:PORT where a container publishes the coordinator's port on the host. */
  async function publishedPort(id: string): Promise<string> {
    if (api) {
      const c = (await api.get(`/containers/${id}/json`)) as {
        NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
      };
      const b = c.NetworkSettings.Ports?.[`${COORDINATOR_PORT}/tcp`]?.[0];
      return b ? `${b.HostIp}:${b.HostPort}` : '';
    }
    const r = await exec('docker', ['port', id, String(COORDINATOR_PORT)]);
    return (r.stdout.trim().split('\n')[0] ?? '') || r.stderr.trim();
  }

  /** The project's containers by service name (the docker CLI: one call, no compose start-up). */
  async function containers(): Promise<Map<string, string>> {
    const ps = await exec('docker', [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--format',
      '{{.ID}} {{.Label "com.docker.compose.service"}}',
    ]);
    return new Map(
      ps.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ').reverse() as [string, string]),
    );
  }

  /** Logs and outputs of every instance container; resolves to their exit codes. */
  async function collect(): Promise<Map<string, number | null>> {
    const exits = new Map<string, number | null>();
    const ids = await containers();
    const wanted = instanceLayout(plan).filter((p) => ids.has(p.name));
    for (const p of instanceLayout(plan)) exits.set(p.name, null);
    if (wanted.length === 0) return exits;
    // Outputs are already on the host (a bind mount).
    if (api) {
      await inParallel(
        wanted,
        async (p) => {
          const id = ids.get(p.name)!;
          const c = (await api.get(`/containers/${id}/json`)) as { State: { Running: boolean; ExitCode: number } };
          exits.set(p.name, c.State.Running ? null : c.State.ExitCode);
          const logs = demuxLogs(await api.bytes(`/containers/${id}/logs?stdout=1&stderr=1`));
          writeFileSync(join(o.outDir, 'logs', `${p.name}.log`), logs.stdout + logs.stderr);
        },
        AT_ONCE,
      );
      return exits;
    }
    // One inspect for all; the logs in parallel.
    const states = await exec('docker', [
      'inspect',
      '--format',
      '{{.State.Running}} {{.State.ExitCode}}',
      ...wanted.map((p) => ids.get(p.name)!),
    ]);
    states.stdout
      .trim()
      .split('\n')
      .forEach((line, i) => {
        const [running, code] = line.split(' ');
        if (wanted[i]) exits.set(wanted[i]!.name, running === 'false' ? Number(code) : null);
      });
    await Promise.all(
      wanted.map(async (p) => {
        const logs = await exec('docker', ['logs', ids.get(p.name)!]);
        writeFileSync(join(o.outDir, 'logs', `${p.name}.log`), logs.stdout + logs.stderr);
      }),
    );
    return exits;
  }
}
