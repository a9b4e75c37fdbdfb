import { exec, sleep } from '../driver/exec.js';
import { dockerProcessArgs } from '../compose/report-exits.js';
import type { ProcessAction } from '../../schema/ir.js';
import type { SwarmNode, SwarmTask } from './swarm-cli.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The schedule's process actions on swarm, on the engine of the task's node (`--node-host`, or the
 * one tgc talks to); a restart is the swarm's own (a new task of the instance's service).
 */
export function processActions(o: {
  readonly stack: string;
  readonly env: Env;
  /** The node id of the engine tgc talks to. */
  readonly self: string;
  readonly nodeHosts: Readonly<Record<string, string>>;
  readonly tasks: () => Promise<SwarmTask[]>;
  readonly nodeOf: (t: SwarmTask) => SwarmNode | undefined;
  /** An instance the schedule ends: its end is no failure. */
  readonly expect: (name: string) => void;
}): (action: ProcessAction, names: readonly string[]) => Promise<void> {
  const { stack, env, self, nodeHosts, tasks, nodeOf } = o;
  return async (action, names) => {
    await Promise.all(
      names.map(async (name) => {
        if (action === 'kill' || action === 'stop' || action === 'restart') o.expect(name);
        // A restart is the swarm's: a new task of the service (a task's container cannot be started
        // again outside the swarm: its configs are the swarm's); same name, address and environment.
        if (action === 'restart') {
          const earlier = new Set((await tasks()).filter((x) => x.service === name).map((x) => x.id));
          const update = ['service', 'update', '--force', '--detach', '--no-resolve-image', `${stack}_${name}`];
          const r = await exec('docker', update, { env });
          if (r.code !== 0) throw new Error(`docker service update --force ${name}: ${r.stderr.trim()}`);
          // Done once its new task runs (as docker restart returns once the container started).
          for (const until = Date.now() + 60_000; ; await sleep(200)) {
            const next = (await tasks()).find((x) => x.service === name && !earlier.has(x.id) && x.state === 'running');
            if (next) return;
            if (Date.now() > until) throw new Error(`${name}'s new task was not running 60 s after its restart`);
          }
        }
        const t = (await tasks()).find((x) => x.service === name && x.containerId && x.state === 'running');
        const node = t && nodeOf(t);
        if (!t || !node) throw new Error(`${name} has no running task`);
        // Its node's engine: given, or the one tgc talks to.
        const url = nodeHosts[node.hostname];
        const there = url !== undefined ? { ...env, DOCKER_HOST: url } : node.id === self ? env : undefined;
        if (!there)
          throw new Error(
            `${name} runs on node ${node.hostname}, whose engine tgc was not given: --node-host ${node.hostname}=URL`,
          );
        const argv = dockerProcessArgs(action, t.containerId!);
        const r = await exec('docker', argv, { env: there });
        if (r.code !== 0) throw new Error(`docker ${argv[0]} ${name} on ${node.hostname}: ${r.stderr.trim()}`);
      }),
    );
  };
}
