import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { parseCidr, parseIpv4 } from '../../model/units.js';
import type { LinkShape } from '../../schema/ir.js';
import { AgentLink } from './agent-link.js';
import { linkShape, mergeShapes, planEgress, type ShapingPlan } from '../../model/egress-plan.js';
import { tcRunner } from '../shaping/kernel-backend.js';
import { startKernelShaping } from '../shaping/kernel-shaping.js';
import { parseShape } from '../../model/parse-shape.js';
import { deviceAppears } from '../shaping/tun-bridge.js';
import { Wire } from '../shaping/wire.js';

export const AGENT_USAGE = `Usage: node agent.mjs <kernel|tun|wire> [options]

The shaping agent of a container deployment (docs/network.md). The environment carries the
instance's identity (TGC_INSTANCE, TGC_GROUP, TGC_COORDINATOR, TGC_DATA_SUBNET) and the
plan's shapes (TGC_SHAPING, JSON).

  kernel   shape this network namespace's data interface with tc, report network-ready, apply
           mid-run changes; exits when the run ends
  tun      the userspace backend's data interface: a TUN device (socat) whose packets go to
           the wire over UDP
  wire     the userspace backend's forwarder: applies every link's shape between TUN devices

Options:
  --ready-file F     kernel, tun: written once shaping is in place (for healthchecks)
  --ip A/P           tun: the instance's data address and prefix, e.g. 198.18.0.2/16
  --wire H:P         tun: the wire's host and UDP port
  --port P           tun: the UDP port to send from and receive on; wire: the port to listen on
  --device NAME      tun: the device name (default data0)
  --shaping FILE     kernel, wire: read the plan's shapes from FILE instead of TGC_SHAPING
  -h, --help         show this help`;

export interface AgentIo {
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGTERM, SIGINT). */
  readonly terminated: Promise<void>;
}

/** An endpoint of the wire in a container deployment: an instance's TUN bridge by host name. */
export interface WireSite {
  readonly name: string;
  readonly group: string;
  readonly ip: string;
  readonly host: string;
  readonly port: number;
}

/** What TGC_SHAPING holds: the plan's shapes, and what the target knows of addresses. */
export interface AgentShaping extends ShapingPlan {
  /** Data addresses per group, where the target assigns them (compose); else the agents exchange them. */
  readonly addresses?: Readonly<Record<string, readonly string[]>>;
  /** wire: the TUN bridges. */
  readonly endpoints?: readonly WireSite[];
}

/** The coordinator topic on which kernel agents exchange data addresses when no target assigned them. */
export const ADDRESS_TOPIC = 'tgc:data-addresses';

/** `node agent.mjs …`; resolves to the exit code. */
export async function agentMain(argv: readonly string[], io: AgentIo): Promise<number> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'ready-file': { type: 'string' },
        ip: { type: 'string' },
        wire: { type: 'string' },
        port: { type: 'string' },
        device: { type: 'string', default: 'data0' },
        shaping: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    io.stderr(`tgc agent: ${(err as Error).message}\n\n${AGENT_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stderr(AGENT_USAGE + '\n');
    return 0;
  }
  const mode = positionals[0];
  try {
    if (mode === 'kernel') return await kernelAgent(values, io);
    if (mode === 'tun') return await tunAgent(values, io);
    if (mode === 'wire') return await wireAgent(values, io);
  } catch (err) {
    io.stderr(`tgc agent: ${(err as Error).message}\n`);
    return 1;
  }
  io.stderr(`tgc agent: say kernel, tun or wire\n\n${AGENT_USAGE}\n`);
  return 2;
}

function need(io: AgentIo, name: string): string {
  const v = io.env[name];
  if (!v) throw new Error(`${name} is not set (tgc sets it in every generated deployment)`);
  return v;
}

function shaping(io: AgentIo, file: string | boolean | undefined): AgentShaping {
  const where = typeof file === 'string' ? file : 'TGC_SHAPING';
  try {
    return JSON.parse(typeof file === 'string' ? readFileSync(file, 'utf8') : need(io, 'TGC_SHAPING')) as AgentShaping;
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}

/** The data interface: the one with an address in the data subnet, else the first non-loopback IPv4 one (a pod's eth0). */
export function dataInterface(
  subnet: string | undefined,
  interfaces = networkInterfaces(),
): { device: string; ip: string } | undefined {
  const cidr = subnet ? parseCidr(subnet) : undefined;
  const v4 = Object.entries(interfaces).flatMap(([device, list]) =>
    (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => ({ device, ip: a.address })),
  );
  if (cidr && !('error' in cidr)) {
    const mask = cidr.prefix === 0 ? 0 : (~0 << (32 - cidr.prefix)) >>> 0;
    const inSubnet = v4.find((a) => (parseIpv4(a.ip)! & mask) >>> 0 === (cidr.address & mask) >>> 0);
    if (inSubnet) return inSubnet;
  }
  return v4[0];
}

async function kernelAgent(values: Record<string, string | boolean | undefined>, io: AgentIo): Promise<number> {
  const spec = shaping(io, values.shaping);
  const instance = need(io, 'TGC_INSTANCE');
  const group = need(io, 'TGC_GROUP');
  // An interface is listed once it is up and has carrier, which can lag its creation by a second.
  let data = dataInterface(io.env.TGC_DATA_SUBNET);
  for (
    const deadline = Date.now() + 30_000;
    !data && Date.now() < deadline;
    data = dataInterface(io.env.TGC_DATA_SUBNET)
  )
    await new Promise((r) => setTimeout(r, 200));
  if (!data)
    throw new Error(
      `no IPv4 interface to shape (up, with carrier${io.env.TGC_DATA_SUBNET ? `, in ${io.env.TGC_DATA_SUBNET}` : ''}) within 30 s`,
    );
  const link = await AgentLink.open(need(io, 'TGC_COORDINATOR'), instance, 10 * 60_000);
  const stopped = new Promise<void>((resolve) => link.onStop(resolve));
  let addresses: Map<string, readonly string[]>;
  if (spec.addresses) {
    addresses = new Map(Object.entries(spec.addresses));
  } else {
    // Pod and allocation addresses are known only once they run: every agent publishes its
    // own and, when its egress tells groups apart, waits for everyone's.
    const total = spec.groups.reduce((n, g) => n + g.instances, 0);
    const seen = new Map<string, string>();
    const all = new Promise<void>((resolve) => {
      void link.subscribe(ADDRESS_TOPIC, (payload) => {
        const p = payload as { instance?: unknown; group?: unknown; ip?: unknown };
        if (typeof p.instance === 'string' && typeof p.ip === 'string' && typeof p.group === 'string')
          seen.set(p.instance, `${p.group}\0${p.ip}`);
        if (seen.size >= total) resolve();
      });
    });
    await link.publish(ADDRESS_TOPIC, { instance, group, ip: data.ip });
    if (planEgress(spec, group).classes.length > 0) {
      io.stderr(`tgc agent: ${instance} waiting for the data addresses of ${total} instances\n`);
      if ((await Promise.race([all.then(() => 'all' as const), stopped.then(() => 'stopped' as const)])) === 'stopped')
        return 0;
    }
    addresses = new Map();
    for (const v of seen.values()) {
      const [g, ip] = v.split('\0') as [string, string];
      addresses.set(g, [...(addresses.get(g) ?? []), ip]);
    }
  }
  await startKernelShaping({ plan: spec, instance, group, device: data.device, tc: tcRunner(), addresses, link });
  if (typeof values['ready-file'] === 'string') writeFileSync(values['ready-file'], 'ready\n');
  io.stderr(`tgc agent: ${instance}: ${data.device} (${data.ip}) shaped\n`);
  await Promise.race([stopped, io.terminated]);
  link.close();
  return 0;
}

async function resolveHost(host: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await lookup(host, { family: 4 })).address;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`cannot resolve ${host}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function tunAgent(values: Record<string, string | boolean | undefined>, io: AgentIo): Promise<number> {
  const ip = String(values.ip ?? '');
  const wire = /^(.+):([0-9]+)$/.exec(String(values.wire ?? ''));
  const port = Number(values.port);
  const device = String(values.device);
  if (!/^[0-9.]+\/[0-9]+$/.test(ip) || !wire || !Number.isInteger(port))
    throw new Error('tun needs --ip A/P, --wire HOST:PORT and --port P');
  const wireIp = await resolveHost(wire[1]!, 60_000);
  const socat = spawn(
    'socat',
    [
      '-b',
      '65536',
      `TUN:${ip},tun-name=${device},iff-no-pi,tun-type=tun,iff-up`,
      `UDP:${wireIp}:${wire[2]},bind=:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<number>((resolve) => {
    socat.once('exit', (code) => resolve(code ?? 1));
    socat.once('error', (err) => {
      io.stderr(`tgc agent: cannot start socat: ${err.message}\n`);
      resolve(3);
    });
  });
  try {
    await deviceAppears(device, socat, 10_000, () => '');
  } catch (err) {
    socat.kill('SIGTERM');
    throw err;
  }
  if (typeof values['ready-file'] === 'string') writeFileSync(values['ready-file'], 'ready\n');
  io.stderr(`tgc agent: ${device} ${ip} ↔ wire ${wire[1]}:${wire[2]}\n`);
  const ended = await Promise.race([exited, io.terminated.then(() => 'terminated' as const)]);
  if (ended === 'terminated') {
    socat.kill('SIGTERM');
    return 0;
  }
  return ended;
}

async function wireAgent(values: Record<string, string | boolean | undefined>, io: AgentIo): Promise<number> {
  const spec = shaping(io, values.shaping);
  const coordinator = need(io, 'TGC_COORDINATOR');
  const endpoints = spec.endpoints ?? [];
  const groupOf = new Map(endpoints.map((e) => [e.name, e.group]));
  const overrides = new Map<string, LinkShape>();
  const wire = new Wire({
    shapeOf: (from, to) => linkShape(spec, groupOf.get(from)!, groupOf.get(to)!, overrides.get(from)),
  });
  const port = await wire.listen(Number(values.port ?? 7000), '0.0.0.0');
  io.stderr(`tgc agent: wire listening on UDP ${port} for ${endpoints.length} instances\n`);
  const links: AgentLink[] = [];
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  await Promise.all(
    endpoints.map(async (e) => {
      // A companion's name resolves once its container exists; the instance waits for ready.
      wire.add({ name: e.name, ip: e.ip, port: e.port, host: await resolveHost(e.host, 10 * 60_000) });
      const link = await AgentLink.open(coordinator, e.name, 10 * 60_000);
      links.push(link);
      link.onStop(stop);
      link.onConfigure(async (raw) => {
        const shape = parseShape(raw);
        if ('error' in shape) throw new Error(shape.error);
        overrides.set(e.name, mergeShapes([overrides.get(e.name) ?? {}, shape]));
        wire.reshape(e.name);
      });
      await link.ready();
    }),
  );
  await Promise.race([stopped, io.terminated]);
  for (const l of links) l.close();
  wire.close();
  const s = wire.stats;
  io.stderr(
    `tgc agent: wire forwarded ${s.forwarded} packets; dropped ${Object.entries(s.dropped)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}\n`,
  );
  return 0;
}
