import { hostname } from 'node:os';
import { parseAddress } from '../../protocol/client.js';
import type { AgentIo } from './agent-io.js';
import type { ContainerState, DockerApi } from './docker-api.js';

/**
 * The agent's own container: by its hostname, which Docker sets to the container's id — except on
 * the host's network (swarm), where the deployment names it in TGC_AGENT_CONTAINER
 * (`{{.Task.Name}}.{{.Task.ID}}`, the task's container name). Undefined where it cannot be read.
 */
export function selfContainer(docker: DockerApi, io: AgentIo): Promise<ContainerState | undefined> {
  const name = io.env.TGC_AGENT_CONTAINER || hostname();
  return docker.get<ContainerState>(`/containers/${encodeURIComponent(name)}/json`).catch(() => undefined);
}

/**
 * Where the other hosts' agents reach this one: its container's address on the network they share,
 * or, on the host's network, the node's own address in the swarm.
 */
export async function nodeAddress(docker: DockerApi, self: ContainerState | undefined): Promise<string | undefined> {
  const own = Object.values(self?.NetworkSettings.Networks ?? {})
    .map((n) => n.IPAddress)
    .find(Boolean);
  if (own) return own;
  const info = await docker.get<{ Swarm?: { NodeAddr?: string } }>('/info').catch(() => undefined);
  return info?.Swarm?.NodeAddr || undefined;
}

/** How long an agent looks for a coordinator it was given no address of. */
const FIND_MS = 5 * 60_000;

/**
 * The coordinator's `host:port`: as given, or — given `:port` alone (a stack deployed by hand,
 * which cannot know the address of the node the coordinator lands on) — the swarm manager whose
 * `port` answers `/status` for this run; the managers are those the node knows (`/info`).
 */
export async function coordinatorAddress(
  given: string,
  runId: string,
  docker: DockerApi,
  io: AgentIo,
): Promise<string> {
  const { host, port } = parseAddress(given);
  if (host) return given;
  const deadline = Date.now() + FIND_MS;
  io.stderr(`tgc agent: looking for run ${runId}'s coordinator on the swarm's managers, port ${port}\n`);
  for (;;) {
    const info = await docker
      .get<{ Swarm?: { RemoteManagers?: { Addr: string }[] | null } }>('/info')
      .catch(() => undefined);
    const managers = (info?.Swarm?.RemoteManagers ?? []).map((m) => parseAddress(m.Addr).host);
    for (const m of managers) {
      const status = await fetch(`http://${m}:${port}/status`, { signal: AbortSignal.timeout(1000) })
        .then((r) => (r.ok ? (r.json() as Promise<{ run_id?: string }>) : undefined))
        .catch(() => undefined);
      if (status?.run_id === runId) return `${m}:${port}`;
    }
    if (Date.now() > deadline)
      throw new Error(
        `no coordinator of run ${runId} answered on port ${port} of the swarm's managers ` +
          `(${managers.join(', ') || 'none known'}) within ${FIND_MS / 60_000} minutes: set TGC_COORDINATOR_HOST ` +
          `to the address of the coordinator's node`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}
