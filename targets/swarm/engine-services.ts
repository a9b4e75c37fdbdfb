import { parse } from 'yaml';
import { deepInterpolate } from '../compose/engine-spec.js';

/** One instance's service as the Engine API creates it. */
export interface InstanceService {
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

const KEYS = new Set([
  'image',
  'entrypoint',
  'environment',
  'labels',
  'volumes',
  'configs',
  'deploy',
  'networks',
  'extra_hosts',
]);
const NAMESPACE = 'com.docker.stack.namespace';

/**
 * The instance services of tgc's `stack.yaml` (merge keys resolved, variables interpolated as
 * `docker stack deploy` does) as Engine API service specs, labelled as the stack's so that
 * `docker stack rm`, `ps` and `services` treat them as its own — but on no network: a stack
 * attaches every service to one, and an overlay attachment doubles a container's start here,
 * where an instance needs none (its node's agent gives it its data interface and relays the
 * coordinator on its loopback). Only the keys tgc's renderer writes are understood; any other is
 * an error, never dropped. `configIds`: the stack's configs by name (`<stack>_<config>`).
 */
export function instanceServices(
  stackText: string,
  o: {
    readonly stack: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly configIds: ReadonlyMap<string, string>;
  },
): InstanceService[] {
  // YAML 1.1, as docker stack deploy reads it (the configs' modes are octal: 0555).
  const doc = deepInterpolate(parse(stackText, { merge: true, version: '1.1' }), o.env) as {
    services: Record<string, Record<string, unknown>>;
  };
  const out: InstanceService[] = [];
  for (const [name, s] of Object.entries(doc.services)) {
    if (name === 'coordinator' || name === 'agent') continue;
    const unknown = Object.keys(s).filter((k) => !KEYS.has(k));
    if (unknown.length > 0) throw new Error(`service ${name}: ${unknown.join(', ')} is not understood here`);
    const image = String(s.image);
    const deploy = (s.deploy ?? {}) as {
      restart_policy?: { condition?: string };
      endpoint_mode?: string;
      resources?: { limits?: { cpus?: string; memory?: string } };
    };
    const limits = deploy.resources?.limits;
    const labels = { ...((s.labels ?? {}) as Record<string, string>), [NAMESPACE]: o.stack };
    const env = Object.entries((s.environment ?? {}) as Record<string, unknown>).map(
      ([k, v]) => `${k}=${String(v ?? '')}`,
    );
    const mounts = ((s.volumes ?? []) as string[]).map((v) => {
      const [source, target, mode] = v.includes(':') ? v.split(':') : [undefined, v, undefined];
      if (source === undefined) return { Type: 'volume', Target: target };
      return {
        Type: 'volume',
        Source: `${o.stack}_${source}`,
        Target: target,
        ReadOnly: mode === 'ro',
        VolumeOptions: { Labels: { [NAMESPACE]: o.stack } },
      };
    });
    const configs = ((s.configs ?? []) as { source: string; target: string; mode?: number }[]).map((c) => {
      const configName = `${o.stack}_${c.source}`;
      const id = o.configIds.get(configName);
      if (!id) throw new Error(`service ${name}: the stack has no config ${configName}`);
      return {
        File: { Name: c.target, UID: '0', GID: '0', Mode: c.mode ?? 0o444 },
        ConfigID: id,
        ConfigName: configName,
      };
    });
    const hosts = ((s.extra_hosts ?? []) as string[]).map((h) => {
      const at = h.lastIndexOf(':');
      return `${h.slice(at + 1)} ${h.slice(0, at)}`;
    });
    out.push({
      name,
      spec: {
        Name: `${o.stack}_${name}`,
        Labels: { [NAMESPACE]: o.stack, 'com.docker.stack.image': image },
        TaskTemplate: {
          ContainerSpec: {
            Image: image,
            Labels: labels,
            ...(s.entrypoint !== undefined && { Command: s.entrypoint }),
            Env: env,
            Hosts: hosts,
            Mounts: mounts,
            Configs: configs,
          },
          RestartPolicy: { Condition: deploy.restart_policy?.condition ?? 'none' },
          ...(limits && {
            Resources: {
              Limits: {
                ...(limits.cpus !== undefined && { NanoCPUs: Math.round(Number(limits.cpus) * 1e9) }),
                ...(limits.memory !== undefined && { MemoryBytes: Number(limits.memory) }),
              },
            },
          }),
        },
        Mode: { Replicated: { Replicas: 1 } },
        EndpointSpec: { Mode: deploy.endpoint_mode ?? 'dnsrr' },
      },
    });
  }
  return out;
}
