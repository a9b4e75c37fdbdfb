import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DockerApi, DockerError } from '../../runtime/agent/docker-api.js';
import type { EngineSpec } from './engine-spec.js';
import { inParallel } from '../driver/in-parallel.js';

/**
 * The Docker API's socket from DOCKER_HOST (unset: the default one); undefined where the engine
 * is reached another way (tcp://, ssh://, a context), which `docker compose` handles instead.
 */
export function dockerSocket(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return env.DOCKER_CONTEXT ? undefined : '/var/run/docker.sock';
  return host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
}

/**
 * How many containers are created and started (or removed) at once: Docker, not tgc, is then what
 * bounds it (here, 2 cores: 16 ran barrier-storm's 50 instances faster than 8).
 */
export const AT_ONCE = 16;

/**
 * Brings `spec` up through the Engine API: its files, networks and volumes, then every container — created,
 * connected and started, `AT_ONCE` at a time, each once those it depends on have started. Once
 * `o.enough()` says so (Ctrl-C, the run's deadline), no more are created: resolves to the services
 * left out. Rejects with Docker's message; what was created is left for the caller's teardown.
 */
export async function engineUp(
  api: DockerApi,
  spec: EngineSpec,
  o: { readonly enough: () => boolean },
): Promise<string[]> {
  const skipped: string[] = [];
  for (const f of spec.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
  }
  for (const n of spec.networks) await api.call('POST', '/networks/create', n.body);
  for (const v of spec.volumes) await api.call('POST', '/volumes/create', v.body);
  // Slots are taken once a service's dependencies have started, so no slot waits on another.
  let free = AT_ONCE;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    if (free > 0) return void free--;
    await new Promise<void>((r) => waiting.push(r));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  // The services come in start order: each one's dependencies are in the map before it.
  const started = new Map<string, Promise<void>>();
  for (const s of spec.services) {
    const start = async () => {
      await Promise.all(s.dependsOn.map((d) => started.get(d)));
      await slot();
      try {
        if (o.enough()) return void skipped.push(s.service);
        await api.call('POST', `/containers/create?name=${encodeURIComponent(s.container)}`, s.create);
        for (const c of s.connect) await api.call('POST', `/networks/${c.network}/connect`, c.body);
        await api.call('POST', `/containers/${s.container}/start`);
      } catch (err) {
        throw err instanceof DockerError ? new Error(`${s.service}: ${err.message}`) : err;
      } finally {
        release();
      }
    };
    started.set(s.service, start());
  }
  await Promise.all(started.values());
  return skipped;
}

/**
 * Removes every container, network and volume of compose project `project` through the Engine
 * API (by compose's project label), containers `AT_ONCE` at a time; rejects with what remains.
 */
export async function engineDown(api: DockerApi, project: string): Promise<void> {
  const filter = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }));
  const containers = (await api.call('GET', `/containers/json?all=true&filters=${filter}`)) as { Id: string }[];
  const left: string[] = [];
  const gone = (err: unknown) => err instanceof DockerError && err.status === 404;
  await inParallel(
    containers,
    (c) =>
      api.call('DELETE', `/containers/${c.Id}?force=true&v=true`).catch((err: unknown) => {
        if (!gone(err)) left.push((err as Error).message);
      }),
    AT_ONCE,
  );
  const networks = (await api.call('GET', `/networks?filters=${filter}`)) as { Id: string }[];
  for (const n of networks)
    await api.call('DELETE', `/networks/${n.Id}`).catch((err: unknown) => {
      if (!gone(err)) left.push((err as Error).message);
    });
  const volumes = ((await api.call('GET', `/volumes?filters=${filter}`)) as { Volumes: { Name: string }[] | null })
    .Volumes;
  for (const v of volumes ?? [])
    await api.call('DELETE', `/volumes/${v.Name}`).catch((err: unknown) => {
      if (!gone(err)) left.push((err as Error).message);
    });
  if (left.length > 0) throw new Error(left.join('; '));
}
