import { execa } from 'execa';
import { exec } from '../driver/exec.js';
import { inParallel } from '../driver/in-parallel.js';
import { dockerSocket } from '../compose/engine-up.js';
import { DockerApi } from '../../runtime/agent/docker-api.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One swarm node, as the manager knows it. */
export interface SwarmNode {
  readonly id: string;
  readonly hostname: string;
  /** ready, down, unknown, disconnected. */
  readonly state: string;
  readonly address: string;
}

/** One task of the stack (the fields the driver uses). */
export interface SwarmTask {
  readonly id: string;
  readonly service: string;
  readonly nodeId: string;
  /** new … running, complete, failed, shutdown, rejected, orphaned. */
  readonly state: string;
  readonly desired: string;
  readonly error: string;
  readonly containerId: string | undefined;
  readonly exitCode: number | undefined;
}

/** Runs the docker CLI; rejects with its message when it fails. */
async function docker(env: Env, args: readonly string[]): Promise<string> {
  const r = await exec('docker', args, { env });
  if (r.code !== 0)
    throw new Error(`docker ${args.slice(0, 2).join(' ')}: ${r.stderr.trim() || `exit code ${r.code}`}`);
  return r.stdout;
}

const lines = (s: string) => s.split('\n').filter(Boolean);

/** The swarm's nodes, through the CLI (swarm-state.ts chooses). */
export async function cliSwarmNodes(env: Env): Promise<SwarmNode[]> {
  const ids = lines(await docker(env, ['node', 'ls', '-q']));
  if (ids.length === 0) return [];
  const text = await docker(env, [
    'node',
    'inspect',
    '--format',
    '{{.ID}} {{.Description.Hostname}} {{.Status.State}} {{.Status.Addr}}',
    ...ids,
  ]);
  return lines(text).map((l) => {
    const [id, hostname, state, address] = l.split(' ') as [string, string, string, string];
    return { id, hostname, state, address };
  });
}

/** A task as the Engine API (and `docker inspect --type task`) gives it: the fields the driver reads. */
export interface RawTask {
  readonly ID: string;
  readonly ServiceID: string;
  readonly NodeID?: string;
  readonly DesiredState: string;
  readonly Status: {
    readonly State: string;
    readonly Err?: string;
    readonly ContainerStatus?: { readonly ContainerID?: string; readonly ExitCode?: number };
  };
}

/** A task as the driver uses it; `names`: the stack's services, id → full name. */
export function taskOf(t: RawTask, stack: string, names: ReadonlyMap<string, string>): SwarmTask {
  const name = names.get(t.ServiceID) ?? t.ServiceID;
  return {
    id: t.ID,
    service: name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : name,
    nodeId: t.NodeID ?? '',
    state: t.Status.State,
    desired: t.DesiredState,
    error: t.Status.Err ?? '',
    containerId: t.Status.ContainerStatus?.ContainerID || undefined,
    exitCode: t.Status.ContainerStatus?.ExitCode,
  };
}

/** Every task of the stack, with its state and container, through the CLI. */
export async function cliStackTasks(env: Env, stack: string): Promise<SwarmTask[]> {
  const filter = `label=com.docker.stack.namespace=${stack}`;
  const [serviceIds, ids] = await Promise.all([
    docker(env, ['service', 'ls', '-q', '--filter', filter]).then(lines),
    docker(env, ['stack', 'ps', '-q', '--no-trunc', stack]).then(lines, () => [] as string[]),
  ]);
  if (ids.length === 0 || serviceIds.length === 0) return [];
  const names = new Map(
    lines(await docker(env, ['service', 'inspect', '--format', '{{.ID}} {{.Spec.Name}}', ...serviceIds])).map(
      (l) => l.split(' ') as [string, string],
    ),
  );
  const raw = JSON.parse(await docker(env, ['inspect', '--type', 'task', ...new Set(ids)])) as RawTask[];
  return raw.map((t) => taskOf(t, stack, names));
}

/** `docker stack deploy` of `files` (in `dir`, where their relative paths point), images as named. */
export async function deployStack(env: Env, dir: string, stack: string, files: readonly string[]): Promise<void> {
  const args = ['stack', 'deploy', '--resolve-image', 'never', ...files.flatMap((f) => ['-c', f]), stack];
  const r = await exec('docker', args, { env, cwd: dir });
  if (r.code !== 0) throw new Error(`docker stack deploy failed:\n${(r.stderr || r.stdout).trim()}`);
}

/**
 * Makes `images` present on each node given an engine URL, as they are here: an image a node
 * lacks (or has in another version) is saved here once and loaded there. Resolves to the nodes
 * loaded into.
 */
export async function loadImages(
  env: Env,
  images: readonly string[],
  nodeHosts: Readonly<Record<string, string>>,
  say: (line: string) => void,
): Promise<void> {
  const local = new Map<string, string>();
  for (const image of images) {
    const id = await imageId(env, image);
    if (id === undefined) throw new Error(`the image ${image} is not on this Docker host: build or pull it first`);
    local.set(image, id);
  }
  await inParallel(
    Object.entries(nodeHosts),
    async ([node, url]) => {
      const there = { ...env, DOCKER_HOST: url };
      const down = await unanswered(there);
      if (down)
        throw new Error(
          `--node-host ${node}=${url}: its Docker engine does not answer (${down}); ` +
            'is the node up and the address right?',
        );
      const missing: string[] = [];
      for (const [image, id] of local) if ((await imageId(there, image)) !== id) missing.push(image);
      if (missing.length === 0) return;
      const t0 = Date.now();
      // docker save here | docker load there: no registry, no file.
      const save = execa('docker', ['save', ...missing], { env, extendEnv: false, buffer: false, reject: false });
      const load = execa('docker', ['load', '-q'], { env: there, extendEnv: false, reject: false, stdin: 'pipe' });
      save.stdout!.pipe(load.stdin!);
      // A load that ends early leaves save blocked on a full pipe.
      void load.then(() => save.kill());
      const [saved, loaded] = await Promise.all([save, load]);
      if (saved.exitCode !== 0 || loaded.exitCode !== 0)
        throw new Error(
          `loading ${missing.join(', ')} into node ${node} (${url}) failed: ` +
            `${String(loaded.stderr || saved.stderr || '').trim()}`,
        );
      say(`tgc: node ${node}: loaded ${missing.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    },
    4,
  );
}

/** An image's id on the engine `env` points at, or undefined where it has none; the Engine API on a Unix socket. */
async function imageId(env: Env, image: string): Promise<string | undefined> {
  const socket = dockerSocket(env);
  if (socket)
    return new DockerApi(socket).get<{ Id: string }>(`/images/${encodeURIComponent(image)}/json`).then(
      (i) => i.Id,
      () => undefined,
    );
  const r = await exec('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { env });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Why the engine `env` points at does not answer, or undefined when it does. */
async function unanswered(env: Env): Promise<string | undefined> {
  const socket = dockerSocket(env);
  if (socket)
    return new DockerApi(socket).get('/version').then(
      () => undefined,
      (err: Error) => err.message,
    );
  const up = await exec('docker', ['version', '--format', '{{.Server.Version}}'], { env });
  return up.code === 0 ? undefined : up.stderr.trim().split('\n').pop();
}
