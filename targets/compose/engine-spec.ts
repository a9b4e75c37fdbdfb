import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * What `tgc run --target compose` creates through the Engine API for a deployment tgc wrote: the
 * compose file read back (merge keys resolved, variables interpolated as compose does) and
 * turned into the API's create bodies, with the labels compose itself puts, so that
 * `docker compose logs`, `ps` and `down` treat the project as theirs. Only the keys tgc's
 * renderer writes are understood; any other is an error, never dropped.
 */
export interface EngineSpec {
  readonly networks: readonly { readonly name: string; readonly body: Record<string, unknown> }[];
  readonly volumes: readonly { readonly name: string; readonly body: Record<string, unknown> }[];
  /** In start order: a service after those it depends on. */
  readonly services: readonly EngineService[];
  /** Files to write before any container is created (absolute paths): the hosts files below. */
  readonly files: readonly { readonly path: string; readonly content: string }[];
}

export interface EngineService {
  readonly service: string;
  readonly container: string;
  readonly dependsOn: readonly string[];
  readonly create: Record<string, unknown>;
  /** Networks beyond the first, connected before the container starts. */
  readonly connect: readonly { readonly network: string; readonly body: Record<string, unknown> }[];
  /** Its /etc/hosts, where Docker makes none (a container without networking). */
  readonly hosts?: { readonly path: string; readonly content: string };
}

/** The lines Docker puts in every container's /etc/hosts before its own and the extra ones. */
const DOCKER_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** The compose version the labels claim: `down`, `ps` and `logs` of v1 and v2 accept it. */
const COMPOSE_VERSION = '1.29.2';
const SERVICE_KEYS = new Set([
  'image',
  'command',
  'entrypoint',
  'environment',
  'labels',
  'volumes',
  'networks',
  'ports',
  'healthcheck',
  'init',
  'cap_add',
  'devices',
  'pid',
  'extra_hosts',
  'cpus',
  'mem_limit',
  'depends_on',
  'network_mode',
]);

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`, as compose interpolates. */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (all, name, op, dflt) => {
    if (all === '$$') return '$';
    const v = env[name as string];
    if (op === ':-') return v === undefined || v === '' ? (dflt as string) : v;
    if (op === '-') return v === undefined ? (dflt as string) : v;
    return v ?? '';
  });
}

export function deepInterpolate(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => deepInterpolate(v, env));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepInterpolate(v, env)]));
  return value;
}

/** "200ms", "5s", "1m" → nanoseconds. */
function nanos(d: string): number {
  const m = /^([0-9.]+)(ms|s|m|h)$/.exec(d);
  if (!m) throw new Error(`duration "${d}" is not understood`);
  return Math.round(Number(m[1]) * { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[m[2] as 'ms' | 's' | 'm' | 'h']);
}

type Doc = Record<string, Record<string, unknown>>;

/** The Engine API requests that bring up `composeText` as project `project` (files relative to `dir`). */
export function engineSpec(
  composeText: string,
  o: { readonly project: string; readonly dir: string; readonly env: Readonly<Record<string, string | undefined>> },
): EngineSpec {
  // tgc's own file: every instance aliases its group's anchors, so no cap on aliases.
  const doc = deepInterpolate(parse(composeText, { merge: true, maxAliasCount: -1 }), o.env) as Doc;
  const project = o.project;
  const composeLabels = (kind: string, name: string) => ({
    'com.docker.compose.project': project,
    [`com.docker.compose.${kind}`]: name,
    'com.docker.compose.version': COMPOSE_VERSION,
  });
  const networks = Object.entries(doc.networks ?? {}).map(([name, n]) => {
    const net = n as { labels?: Record<string, string>; ipam?: { config?: { subnet: string }[] } };
    return {
      name,
      body: {
        Name: `${project}_${name}`,
        CheckDuplicate: true,
        Labels: { ...net.labels, ...composeLabels('network', name) },
        ...(net.ipam?.config && { IPAM: { Config: net.ipam.config.map((c) => ({ Subnet: c.subnet })) } }),
      },
    };
  });
  const volumes = Object.entries(doc.volumes ?? {}).map(([name, v]) => ({
    name,
    body: {
      Name: `${project}_${name}`,
      Labels: { ...(v as { labels?: Record<string, string> })?.labels, ...composeLabels('volume', name) },
    },
  }));
  const services = Object.entries(doc.services ?? {}).map(([service, raw]) =>
    serviceSpec(service, raw as Record<string, unknown>, o.dir, project, composeLabels('service', service)),
  );
  const files = services.flatMap((s) => (s.hosts ? [s.hosts] : []));
  return { networks, volumes, services: inStartOrder(services), files };
}

function serviceSpec(
  service: string,
  s: Record<string, unknown>,
  dir: string,
  project: string,
  labels: Record<string, string>,
): EngineService {
  for (const key of Object.keys(s))
    if (!SERVICE_KEYS.has(key)) throw new Error(`service ${service}: the key "${key}" is not one tgc's engine runs`);
  if (typeof s.image !== 'string') throw new Error(`service ${service} has no image (a build is tgc's to run first)`);
  const host: Record<string, unknown> = {};
  const create: Record<string, unknown> = {
    Image: s.image,
    Labels: {
      ...(s.labels as Record<string, string>),
      ...labels,
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.container-number': '1',
    },
    Env: Object.entries((s.environment as Record<string, unknown>) ?? {}).map(([k, v]) => `${k}=${String(v)}`),
    HostConfig: host,
  };
  if (s.entrypoint) create.Entrypoint = s.entrypoint;
  if (s.command) create.Cmd = s.command;
  host.Binds = ((s.volumes as string[]) ?? []).map((v) => {
    const [src, dst, mode] = v.split(':') as [string, string, string | undefined];
    const source = src.startsWith('.') || isAbsolute(src) ? resolve(dir, src) : `${project}_${src}`;
    return [source, dst, ...(mode ? [mode] : [])].join(':');
  });
  if (s.ports) {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, object[]> = {};
    for (const p of s.ports as string[]) {
      // Only the form tgc writes: HOST_IP::CONTAINER_PORT (a free host port on that address).
      const m = /^([0-9.]+)::([0-9]+)$/.exec(p);
      if (!m) throw new Error(`service ${service}: port "${p}" is not one tgc's engine runs`);
      exposed[`${m[2]}/tcp`] = {};
      bindings[`${m[2]}/tcp`] = [{ HostIp: m[1], HostPort: '' }];
    }
    create.ExposedPorts = exposed;
    host.PortBindings = bindings;
  }
  if (s.healthcheck) {
    const h = s.healthcheck as { test: string[]; interval: string; timeout: string; retries: number };
    create.Healthcheck = { Test: h.test, Interval: nanos(h.interval), Timeout: nanos(h.timeout), Retries: h.retries };
  }
  if (s.init) host.Init = true;
  if (s.cap_add) host.CapAdd = s.cap_add;
  if (s.devices)
    host.Devices = (s.devices as string[]).map((d) => ({
      PathOnHost: d,
      PathInContainer: d,
      CgroupPermissions: 'rwm',
    }));
  if (s.pid) host.PidMode = s.pid;
  if (s.network_mode) host.NetworkMode = s.network_mode;
  let hosts: EngineService['hosts'];
  if (s.network_mode === 'none') {
    // No networking at all rather than Docker's empty one: the same empty namespace with its
    // loopback up, without the network set-up Docker runs at each start (a re-run of its own
    // binary: about 0.3 s of CPU per container here). Docker then writes no /etc/hosts: the
    // one it would have, extra hosts included, is mounted instead (writable, as Docker's is).
    create.NetworkDisabled = true;
    const extra = ((s.extra_hosts as string[] | undefined) ?? []).map((h) => {
      const at = h.indexOf(':');
      return `${h.slice(at + 1)}\t${h.slice(0, at)}`;
    });
    hosts = { path: resolve(dir, 'tgc', 'hosts', service), content: [...DOCKER_HOSTS, ...extra].join('\n') + '\n' };
    (host.Binds as string[]).push(`${hosts.path}:/etc/hosts`);
  } else if (s.extra_hosts) host.ExtraHosts = s.extra_hosts;
  if (s.cpus !== undefined) host.NanoCpus = Math.round(Number(s.cpus) * 1e9);
  if (s.mem_limit !== undefined) host.Memory = Number(s.mem_limit);
  // Every network's endpoint answers to the service's name, as compose's do.
  const nets = Array.isArray(s.networks)
    ? (s.networks as string[]).map((n) => [n, {}] as const)
    : Object.entries((s.networks as Record<string, { ipv4_address?: string } | null>) ?? {});
  const endpoint = (cfg: { ipv4_address?: string } | null) => ({
    Aliases: [service],
    ...(cfg?.ipv4_address && { IPAMConfig: { IPv4Address: cfg.ipv4_address } }),
  });
  const [first, ...rest] = nets;
  if (first) {
    host.NetworkMode = `${project}_${first[0]}`;
    create.NetworkingConfig = { EndpointsConfig: { [`${project}_${first[0]}`]: endpoint(first[1]) } };
  }
  return {
    service,
    container: `${project}_${service}_1`,
    dependsOn: Array.isArray(s.depends_on)
      ? (s.depends_on as string[])
      : Object.keys((s.depends_on as Record<string, unknown>) ?? {}),
    create,
    connect: rest.map(([n, cfg]) => ({
      network: `${project}_${n}`,
      body: { Container: `${project}_${service}_1`, EndpointConfig: endpoint(cfg) },
    })),
    ...(hosts && { hosts }),
  };
}

/** Services ordered so that each comes after what it depends on (the file's order otherwise). */
function inStartOrder(services: readonly EngineService[]): EngineService[] {
  const byName = new Map(services.map((s) => [s.service, s]));
  const out: EngineService[] = [];
  const placed = new Set<string>();
  const visit = (s: EngineService, path: readonly string[]) => {
    if (placed.has(s.service)) return;
    if (path.includes(s.service)) throw new Error(`services depend on each other in a cycle: ${path.join(' → ')}`);
    for (const d of s.dependsOn) {
      const dep = byName.get(d);
      if (!dep) throw new Error(`service ${s.service} depends on ${d}, which is not in the file`);
      visit(dep, [...path, s.service]);
    }
    placed.add(s.service);
    out.push(s);
  };
  for (const s of services) visit(s, []);
  return out;
}
