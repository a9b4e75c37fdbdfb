import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dockerSkipReason } from './docker-lab.js';
import { repoRoot } from './helpers.js';

const SCRIPT = join(repoRoot, 'test/support/swarm-lab.sh');

/** A three-node swarm in network namespaces (test/support/swarm-lab.sh). */
export interface SwarmLab {
  readonly dir: string;
  /** Each node's engine by hostname (node1 is the manager). */
  readonly nodes: Readonly<Record<string, string>>;
  /** The environment that points the Docker CLI at the manager. */
  readonly env: NodeJS.ProcessEnv;
  /** `--node-host` for every node but the manager (the engine tgc talks to). */
  readonly nodeHostArgs: readonly string[];
  /** Started by this process (and stopped by it), or by `.ci/run` (TGC_SWARM_LAB). */
  readonly ours: boolean;
}

/** Why the swarm tests cannot run here, or undefined when they can. */
export function swarmSkipReason(): string | undefined {
  const docker = dockerSkipReason();
  if (docker) return docker;
  if (process.getuid?.() !== 0) return 'needs root (the lab puts three Docker daemons in network namespaces)';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'needs ip netns (iproute2)';
  return undefined;
}

/**
 * The lab: the one `.ci/run` started (TGC_SWARM_LAB names its directory), else a new one. The
 * manager gets `images` from this machine's engine (as a build would leave them there); the
 * workers get them from tgc (`--node-host`).
 */
export function startSwarmLab(images: readonly string[]): SwarmLab {
  const given = process.env.TGC_SWARM_LAB;
  const dir = given ?? `/tmp/tgc-swarm-lab-${process.pid}`;
  if (!given || !existsSync(join(dir, 'n1/run/docker.sock')))
    execFileSync(SCRIPT, ['up', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const nodes = Object.fromEntries([1, 2, 3].map((n) => [`node${n}`, `unix://${dir}/n${n}/run/docker.sock`]));
  const lab: SwarmLab = {
    dir,
    nodes,
    env: { ...process.env, DOCKER_HOST: nodes.node1 },
    nodeHostArgs: ['node2', 'node3'].flatMap((n) => ['--node-host', `${n}=${nodes[n]}`]),
    ours: !given,
  };
  loadImages(lab, 'node1', images);
  return lab;
}

/** `images` from this machine's engine into a node's, when it lacks them or has other versions. */
export function loadImages(lab: SwarmLab, node: string, images: readonly string[]): void {
  const id = (env: NodeJS.ProcessEnv, image: string) =>
    spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { env, encoding: 'utf8' }).stdout.trim();
  const there = { ...process.env, DOCKER_HOST: lab.nodes[node] };
  const missing = images.filter((i) => id(process.env, i) !== id(there, i));
  if (missing.length === 0) return;
  const r = spawnSync('sh', [
    '-c',
    `docker save "$@" | DOCKER_HOST=${lab.nodes[node]} docker load -q`,
    'sh',
    ...missing,
  ]);
  if (r.status !== 0) throw new Error(`loading ${missing.join(', ')} into ${node} failed: ${r.stderr}`);
}

export function stopSwarmLab(lab: SwarmLab): void {
  if (lab.ours) execFileSync(SCRIPT, ['down', lab.dir], { stdio: 'ignore' });
}

/** Stops (`stop-node`) or starts again (`start-node`) one node's Docker daemon. */
export function nodeDaemon(lab: SwarmLab, action: 'stop-node' | 'start-node', n: number): void {
  execFileSync(SCRIPT, [action, lab.dir, String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * What of stack `stack` is left on any node: containers, volumes, networks, configs, services —
 * and any volume or container at all (anonymous volumes and helpers carry no stack label).
 */
export function swarmLeftovers(lab: SwarmLab, stack: string): string[] {
  const out: string[] = [];
  for (const [node, url] of Object.entries(lab.nodes)) {
    const list = (args: string[]) =>
      spawnSync('docker', args, { env: { ...process.env, DOCKER_HOST: url }, encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
    out.push(
      ...list(['ps', '-aq']).map((c) => `${node}: container ${c}`),
      ...list(['volume', 'ls', '-q']).map((v) => `${node}: volume ${v}`),
      ...list(['network', 'ls', '--format', '{{.Name}}'])
        .filter((n) => n.startsWith(stack))
        .map((n) => `${node}: network ${n}`),
    );
    if (node === 'node1')
      out.push(
        ...list(['config', 'ls', '--format', '{{.Name}}'])
          .filter((c) => c.startsWith(stack))
          .map((c) => `node1: config ${c}`),
        ...list(['service', 'ls', '--format', '{{.Name}}'])
          .filter((s) => s.startsWith(stack))
          .map((s) => `node1: service ${s}`),
      );
  }
  return out;
}
