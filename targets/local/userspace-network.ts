import type { ChildProcess } from 'node:child_process';
import type { LinkShape, Plan } from '../../schema/ir.js';
import { inParallel } from '../driver/in-parallel.js';
import { ipBatch } from './ip-batch.js';
import { AgentLink } from '../../runtime/agent/agent-link.js';
import { destinationTable, linkShape, mergeShapes, type DestinationShape } from '../../model/egress-plan.js';
import { NativeWire, nativeWireBinary, type NativeWireOptions } from './native-wire.js';
import { parseShape } from '../../model/parse-shape.js';
import { moveAddress, outsideSubnet } from '../../runtime/agent/move-address.js';
import { attachTun, type TunBridge } from './tun-bridge.js';
import { Wire } from '../../runtime/shaping/wire.js';

export interface ShapedInstance {
  readonly name: string;
  readonly group: string;
  /** The instance's network namespace (`ip netns` name). */
  readonly netns: string;
  readonly ip: string;
  /** Its TUN device name (≤ 15 characters). */
  readonly device: string;
}

/** Which wire carries the packets: the native one (one process, all devices) or Node's with a socat per device. */
export type WireEngine = 'native' | 'node';

export interface UserspaceNetworkOptions {
  readonly plan: Plan;
  readonly instances: readonly ShapedInstance[];
  /** Prefix length of the data subnet. */
  readonly prefix: number;
  /** When given, one agent per instance registers there, reports ready and takes `configure`. */
  readonly coordinator?: string;
  /** @default "native" when this install has dist/native/tgc-wire, else "node" */
  readonly engine?: WireEngine;
  /** How the native wire does its I/O (busy-poll, io_uring). */
  readonly nativeWire?: NativeWireOptions;
  /** Called once an instance has moved to another data address (names follow it). */
  readonly onAddress?: (instance: string, ip: string) => void;
}

/** The counters of either wire. */
export interface UserspaceStats {
  readonly forwarded: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly duplicated: number;
  readonly corrupted: number;
}

/** One wire implementation behind the network: how it learns about a mid-run change, its counters, its end. */
interface Engine {
  readonly name: WireEngine;
  readonly processes: readonly Pick<ChildProcess, 'exitCode' | 'signalCode' | 'pid' | 'kill' | 'once'>[];
  reshape(instance: ShapedInstance): Promise<void>;
  /** Packets to `ip` reach `instance` from now on, none to its old address. */
  readdress(instance: ShapedInstance, ip: string): Promise<void>;
  /** After a scheduled event changed an instance's per-destination layers (`before`: the previous ones). */
  repair(instance: ShapedInstance, before: ReadonlyMap<string, LinkShape> | undefined): Promise<void>;
  stats(): Promise<UserspaceStats>;
  close(): Promise<void>;
}

/**
 * The userspace backend for instances in network namespaces on this host: a wire, a TUN data
 * interface per instance, and the agents that tell the coordinator when shaping is in place
 * and apply mid-run changes (an instance's `configure` becomes the top layer of its egress).
 */
export class UserspaceNetwork {
  readonly overrides = new Map<string, LinkShape>();
  /** Scheduled events' per-destination layers: source → destination → shape. */
  readonly pairs = new Map<string, Map<string, LinkShape>>();
  private readonly agents: AgentLink[] = [];
  /** Instances moved to another data address, and their mask there. */
  private readonly moved = new Map<string, { ip: string; prefix: number }>();
  private engine: Engine | undefined;

  private constructor(private readonly options: UserspaceNetworkOptions) {}

  /** Instance `name`'s per-destination shapes (a scheduled event's, a Testground rule's): its whole table. */
  async links(name: string, table: readonly DestinationShape[]): Promise<void> {
    const inst = this.options.instances.find((i) => i.name === name);
    if (!inst) throw new Error(`no instance ${name} on this wire`);
    const before = this.pairs.get(name);
    this.pairs.set(name, destinationTable(table));
    await this.engine!.repair(inst, before);
  }

  static async start(options: UserspaceNetworkOptions): Promise<UserspaceNetwork> {
    const net = new UserspaceNetwork(options);
    try {
      const binary = nativeWireBinary();
      const engine = options.engine ?? (binary ? 'native' : 'node');
      if (engine === 'native' && !binary)
        throw new Error('the native wire (dist/native/tgc-wire) is not built: run npm run build with gcc installed');
      net.engine = engine === 'native' ? await net.startNative(binary!) : await net.startNode();
      if (options.coordinator) {
        const coordinator = options.coordinator;
        await inParallel(options.instances, async (inst) => {
          const agent = await AgentLink.open(coordinator, inst.name, { dataIp: inst.ip });
          net.agents.push(agent);
          agent.onConfigure(async (raw) => {
            const shape = parseShape(raw);
            if ('error' in shape) throw new Error(shape.error);
            net.overrides.set(inst.name, mergeShapes([net.overrides.get(inst.name) ?? {}, shape]));
            await net.engine!.reshape(inst);
          });
          agent.onLinks((table) => net.links(inst.name, table));
          agent.onAddress((ip, prefix) => net.readdress(inst.name, ip, prefix));
        });
        await Promise.all(net.agents.map((a) => a.ready()));
      }
      return net;
    } catch (err) {
      await net.close();
      throw err;
    }
  }

  /** The wire carrying the packets. */
  get engineName(): WireEngine {
    return this.engine?.name ?? 'node';
  }

  /**
   * Moves `inst` to another data address in the data network (Testground's `IPv4`): its old one
   * reaches nobody from then on. `prefix`: its new mask (default: the data network's).
   */
  async readdress(name: string, ip: string, prefix = this.options.prefix): Promise<void> {
    const o = this.options;
    const inst = o.instances.find((i) => i.name === name);
    if (!inst) throw new Error(`no instance ${name} on this wire`);
    const now = this.moved.get(inst.name) ?? { ip: inst.ip, prefix: o.prefix };
    const outside = outsideSubnet(ip, `${inst.ip}/${o.prefix}`);
    if (outside) throw new Error(outside);
    const taken = o.instances.find((i) => i !== inst && (this.moved.get(i.name)?.ip ?? i.ip) === ip);
    if (taken) throw new Error(`${ip} is the data address of ${taken.name}`);
    await moveAddress(`/run/netns/${inst.netns}`, inst.device, now, { ip, prefix });
    await this.engine!.readdress(inst, ip);
    this.moved.set(inst.name, { ip, prefix });
    o.onAddress?.(inst.name, ip);
  }

  /** The processes this network started (wire, TUN bridges), for callers that track them. */
  get processes(): readonly Pick<ChildProcess, 'exitCode' | 'signalCode' | 'pid' | 'kill' | 'once'>[] {
    return this.engine?.processes ?? [];
  }

  stats(): Promise<UserspaceStats> {
    return this.engine!.stats();
  }

  async close(): Promise<void> {
    for (const a of this.agents) a.close();
    await this.engine?.close();
  }

  private shapeOf(from: ShapedInstance, toGroup: string): LinkShape {
    return linkShape(this.options.plan, from.group, toGroup, this.overrides.get(from.name));
  }

  /** The shape from one instance to another: its group's, with a scheduled event's layer on top. */
  private pairShape(from: ShapedInstance, to: ShapedInstance): LinkShape {
    return mergeShapes([this.shapeOf(from, to.group), this.pairs.get(from.name)?.get(to.name) ?? {}]);
  }

  /** Node's wire on loopback UDP, and a socat per instance carrying its TUN device's packets. */
  private async startNode(): Promise<Engine> {
    const o = this.options;
    const byName = new Map(o.instances.map((i) => [i.name, i]));
    const wire = new Wire({ shapeOf: (from, to) => this.pairShape(byName.get(from)!, byName.get(to)!) });
    const bridges: TunBridge[] = [];
    const ports = new Map<string, number>();
    const engine: Engine = {
      name: 'node',
      get processes() {
        return bridges.map((b) => b.process);
      },
      reshape: async (inst) => wire.reshape(inst.name),
      readdress: async (inst, ip) => wire.add({ name: inst.name, ip, port: ports.get(inst.name)! }),
      repair: async (inst) => wire.reshape(inst.name),
      stats: async () => wire.stats,
      close: async () => {
        await Promise.all(bridges.map((b) => b.close()));
        wire.close();
      },
    };
    this.engine = engine;
    const wirePort = await wire.listen();
    await inParallel(o.instances, async (inst) => {
      const bridge = await attachTun({
        netns: inst.netns,
        device: inst.device,
        ip: inst.ip,
        prefix: o.prefix,
        wirePort,
      });
      bridges.push(bridge);
      ports.set(inst.name, bridge.port);
      wire.add({ name: inst.name, ip: inst.ip, port: bridge.port });
    });
    return engine;
  }

  /**
   * The native wire: one process creates every TUN device right inside its instance's
   * namespace and keeps the descriptors; the devices are then given their addresses. Shapes go
   * to it group to group, and per instance after a change.
   */
  private async startNative(binary: string): Promise<Engine> {
    const o = this.options;
    const wire = NativeWire.start(binary, o.nativeWire);
    const engine: Engine = {
      name: 'native',
      processes: [wire.process],
      reshape: async (inst) => {
        const index = o.instances.indexOf(inst);
        for (const [g, group] of o.plan.groups.entries()) await wire.override(index, g, this.shapeOf(inst, group.id));
        await engine.repair(inst, undefined);
      },
      readdress: (inst, ip) => wire.readdress(o.instances.indexOf(inst), ip),
      // Pair shapes are whole (every layer merged), so they are written again after any change.
      repair: async (inst) => {
        const index = o.instances.indexOf(inst);
        await wire.unpair(index);
        for (const to of this.pairs.get(inst.name)?.keys() ?? []) {
          const dest = o.instances.findIndex((i) => i.name === to);
          if (dest >= 0) await wire.pair(index, dest, this.pairShape(inst, o.instances[dest]!));
        }
      },
      stats: () => wire.stats(),
      close: () => wire.close(),
    };
    this.engine = engine;
    const groupIndex = new Map(o.plan.groups.map((g, i) => [g.id, i]));
    for (const inst of o.instances) await wire.addTun(inst.device, inst.ip, groupIndex.get(inst.group)!, inst.netns);
    for (const [i, from] of o.plan.groups.entries()) {
      for (const [j, to] of o.plan.groups.entries()) {
        const shape = linkShape(o.plan, from.id, to.id);
        if (Object.keys(shape).length > 0) await wire.shape(i, j, shape);
      }
    }
    await inParallel(o.instances, (inst) =>
      ipBatch([`addr add ${inst.ip}/${o.prefix} dev ${inst.device}`, `link set dev ${inst.device} up`], inst.netns),
    );
    return engine;
  }
}
