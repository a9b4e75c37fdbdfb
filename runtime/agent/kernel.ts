import { writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { groupOfInstance, planEgress } from '../../model/egress-plan.js';
import { parseCidr, parseIpv4, prefixMask } from '../../model/ipv4.js';
import { tcRunner } from '../shaping/kernel-backend.js';
import { startKernelShaping } from '../shaping/kernel-shaping.js';
import { AgentLink } from './agent-link.js';
import { ADDRESS_TOPIC, need, shaping, type AgentIo, type AgentValues } from './agent-io.js';
import { EXIT } from '../../model/exit-codes.js';

/**
 * The data interface: the one with an address in the data subnet, else the first non-loopback
 * IPv4 one (a pod's eth0).
 */
export function dataInterface(
  subnet: string | undefined,
  interfaces = networkInterfaces(),
): { device: string; ip: string } | undefined {
  const cidr = subnet ? parseCidr(subnet) : undefined;
  const v4 = Object.entries(interfaces).flatMap(([device, list]) =>
    (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => ({ device, ip: a.address })),
  );
  if (cidr && !('error' in cidr)) {
    const mask = prefixMask(cidr.prefix);
    const inSubnet = v4.find((a) => (parseIpv4(a.ip)! & mask) >>> 0 === (cidr.address & mask) >>> 0);
    if (inSubnet) return inSubnet;
  }
  return v4[0];
}

/** `kernel`: shapes this namespace's data interface with tc; exits when the run ends. */
export async function kernelAgent(values: AgentValues, io: AgentIo): Promise<number> {
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
      `no IPv4 interface to shape (up, with carrier` +
        `${io.env.TGC_DATA_SUBNET ? `, in ${io.env.TGC_DATA_SUBNET}` : ''}) within 30 s`,
    );
  const link = await AgentLink.open(need(io, 'TGC_COORDINATOR'), instance, {
    timeoutMs: 10 * 60_000,
    dataIp: data.ip,
  });
  const stopped = new Promise<void>((resolve) => link.onStop(resolve));
  let addresses: Map<string, readonly string[]>;
  // Instance → `group\0ip`, from the address topic (clusters).
  const seen = new Map<string, string>();
  const marked = spec.network.classify === 'mark';
  // Every instance's address, from the topic every agent publishes on: subscribed to once, when
  // needed (at start for the address classification; for the mark one only if this instance
  // shapes its own egress — a `configure`, a scheduled event).
  let all: Promise<void> | undefined;
  const total = spec.groups.reduce((n, g) => n + g.instances, 0);
  const everyAddress = () =>
    (all ??= new Promise<void>((resolve) => {
      void link.subscribe(ADDRESS_TOPIC, (payload) => {
        const p = payload as { instance?: unknown; group?: unknown; ip?: unknown };
        if (typeof p.instance === 'string' && typeof p.ip === 'string' && typeof p.group === 'string')
          seen.set(p.instance, `${p.group}\0${p.ip}`);
        if (seen.size >= total) resolve();
      });
    }));
  const byGroup = () => {
    const out = new Map<string, readonly string[]>();
    for (const v of seen.values()) {
      const [g, ip] = v.split('\0') as [string, string];
      out.set(g, [...(out.get(g) ?? []), ip]);
    }
    return out;
  };
  if (spec.addresses) {
    addresses = new Map(Object.entries(spec.addresses));
  } else {
    // Pod and allocation addresses are known only once they run: every agent publishes its own
    // and, when its egress tells groups apart by address, waits for everyone's.
    await link.publish(ADDRESS_TOPIC, { instance, group, ip: data.ip });
    if (!marked && planEgress(spec, group).classes.length > 0) {
      io.stderr(`tgc agent: ${instance} waiting for the data addresses of ${total} instances\n`);
      const got = await Promise.race([
        everyAddress().then(() => 'all' as const),
        stopped.then(() => 'stopped' as const),
      ]);
      if (got === 'stopped') return EXIT.ok;
    }
    addresses = byGroup();
  }
  await startKernelShaping({
    plan: spec,
    instance,
    group,
    device: data.device,
    tc: tcRunner(),
    addresses,
    link,
    classify: marked ? 'mark' : 'address',
    allAddresses: async () => {
      if (spec.addresses) return addresses;
      await everyAddress();
      return byGroup();
    },
    // Compose lists each group's addresses in instance order; on clusters they come from the topic.
    addressOf: (name) =>
      spec.addresses
        ? spec.addresses[groupOfInstance(name)]?.[Number(name.slice(name.lastIndexOf('-') + 1))]
        : seen.get(name)?.split('\0')[1],
  });
  if (typeof values['ready-file'] === 'string') writeFileSync(values['ready-file'], 'ready\n');
  io.stderr(`tgc agent: ${instance}: ${data.device} (${data.ip}) shaped\n`);
  await Promise.race([stopped, io.terminated]);
  link.close();
  return EXIT.ok;
}
