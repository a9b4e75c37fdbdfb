import { spawn } from 'node:child_process';
import { REAP_COMMAND } from '../local/inside-command.js';
import { tgcBin } from '../local/rootless.js';
import { RUN_LABEL } from '../compose/render.js';
import { processAlive } from './process-alive.js';

/**
 * Starts `tgc reap <pid> <tag>` beside a root run: a process of its own session that waits for
 * this tgc to end and then kills the run's instances (every process in its namespaces) and
 * removes what it left — so a `kill -9` of tgc leaves nothing running. After a run that took
 * itself down, it finds nothing and exits.
 */
export function startReaper(tag: string): Reaper {
  return spawnReaper([tag]);
}

/** A reaper the run dismisses when it took itself down: nothing of the run outlives it. */
export interface Reaper {
  dismiss(): void;
}

/**
 * The same beside a compose run: when its tgc ends, the containers, networks and volumes of
 * run `runId` (by their labels) are removed, with the Docker client's environment `env`.
 */
export function startComposeReaper(runId: string, env: Readonly<Record<string, string | undefined>>): Reaper {
  return spawnReaper(['--compose', runId], env);
}

function spawnReaper(args: readonly string[], env?: Readonly<Record<string, string | undefined>>): Reaper {
  const child = spawn(process.execPath, [tgcBin(), REAP_COMMAND, String(process.pid), ...args], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
    ...(env && { env: env as NodeJS.ProcessEnv }),
  });
  child.unref();
  return { dismiss: () => void child.kill('SIGKILL') };
}

/** `tgc reap`: polls `pid` every 250 ms; once it is gone, reaps run `tag` (or compose run `compose`). */
export async function reap(pid: number, tag: string | undefined, compose?: string): Promise<void> {
  while (processAlive(pid)) await new Promise((r) => setTimeout(r, 250));
  if (compose) return reapCompose(compose);
  const { reapRun } = await import('../local/network.js');
  if (tag) await reapRun(tag);
}

/** Whatever of compose run `runId` is left: its containers and networks by label, its volumes by project. */
async function reapCompose(runId: string): Promise<void> {
  const { exec } = await import('./exec.js');
  const list = async (args: string[]) => (await exec('docker', args)).stdout.split('\n').filter(Boolean);
  const containers = await list(['ps', '-aq', '--filter', `label=${RUN_LABEL}=${runId}`]);
  if (containers.length > 0) await exec('docker', ['rm', '-f', '-v', ...containers]);
  const networks = await list(['network', 'ls', '-q', '--filter', `label=${RUN_LABEL}=${runId}`]);
  if (networks.length > 0) await exec('docker', ['network', 'rm', ...networks]);
  const volumes = await list(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=tgc-${runId}`]);
  if (volumes.length > 0) await exec('docker', ['volume', 'rm', '-f', ...volumes]);
}
