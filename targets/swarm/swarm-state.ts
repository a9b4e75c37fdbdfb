import { DockerApi } from '../../runtime/agent/docker-api.js';
import { dockerSocket } from '../compose/engine-up.js';
import { cliStackTasks, cliSwarmNodes, taskOf, type RawTask, type SwarmNode, type SwarmTask } from './swarm-cli.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The swarm's nodes and a stack's tasks, as the driver follows them: through the Engine API where
 * the Docker CLI's engine is a Unix socket — a driver polling through the CLI ran four of its
 * processes per look (each a tenth of a second of CPU: on a busy manager, a share of every run's
 * start-up) — else through the CLI (`tcp://`, `ssh://`, contexts).
 */
export function swarmState(env: Env): {
  nodes(): Promise<SwarmNode[]>;
  tasks(stack: string): Promise<SwarmTask[]>;
} {
  const socket = dockerSocket(env);
  if (!socket) return { nodes: () => cliSwarmNodes(env), tasks: (stack) => cliStackTasks(env, stack) };
  const api = new DockerApi(socket);
  return {
    async nodes() {
      const nodes =
        await api.get<
          { ID: string; Description?: { Hostname?: string }; Status?: { State?: string; Addr?: string } }[]
        >('/nodes');
      return nodes.map((n) => ({
        id: n.ID,
        hostname: n.Description?.Hostname ?? n.ID,
        state: n.Status?.State ?? 'unknown',
        address: n.Status?.Addr ?? '',
      }));
    },
    async tasks(stack) {
      const label = encodeURIComponent(JSON.stringify({ label: [`com.docker.stack.namespace=${stack}`] }));
      const services = await api.get<{ ID: string; Spec: { Name: string } }[]>(`/services?filters=${label}`);
      if (services.length === 0) return [];
      const names = new Map(services.map((s) => [s.ID, s.Spec.Name]));
      const of = encodeURIComponent(JSON.stringify({ service: [...names.keys()] }));
      const raw = await api.get<RawTask[]>(`/tasks?filters=${of}`);
      return raw.filter((t) => names.has(t.ServiceID)).map((t) => taskOf(t, stack, names));
    },
  };
}
