import type { LinkShape, Plan } from '../../schema/ir.js';
import { inParallel } from '../in-parallel.js';
import { AgentLink } from './agent-link.js';
import { linkShape, mergeShapes } from './egress-plan.js';
import { parseShape } from './parse-shape.js';
import { attachTun, type TunBridge } from './tun-bridge.js';
import { Wire } from './wire.js';

export interface ShapedInstance {
  readonly name: string;
  readonly group: string;
  /** The instance's network namespace (`ip netns` name). */
  readonly netns: string;
  readonly ip: string;
  /** Its TUN device name (≤ 15 characters). */
  readonly device: string;
}

export interface UserspaceNetworkOptions {
  readonly plan: Plan;
  readonly instances: readonly ShapedInstance[];
  /** Prefix length of the data subnet. */
  readonly prefix: number;
  /** When given, one agent per instance registers there, reports ready and takes `configure`. */
  readonly coordinator?: string;
}

/**
 * The userspace backend for instances in network namespaces on this host: one wire, one TUN
 * bridge per instance, and the agents that tell the coordinator when shaping is in place and
 * apply mid-run changes (an instance's `configure` becomes the top layer of its egress).
 */
export class UserspaceNetwork {
  readonly overrides = new Map<string, LinkShape>();
  private readonly bridges: TunBridge[] = [];
  private readonly agents: AgentLink[] = [];

  private constructor(readonly wire: Wire) {}

  static async start(options: UserspaceNetworkOptions): Promise<UserspaceNetwork> {
    const groupOf = new Map(options.instances.map((i) => [i.name, i.group]));
    let net: UserspaceNetwork | undefined;
    const wire = new Wire({ shapeOf: (from, to) => linkShape(options.plan, groupOf.get(from)!, groupOf.get(to)!, net?.overrides.get(from)) });
    net = new UserspaceNetwork(wire);
    try {
      const wirePort = await wire.listen();
      await inParallel(options.instances, async (inst) => {
        const bridge = await attachTun({ netns: inst.netns, device: inst.device, ip: inst.ip, prefix: options.prefix, wirePort });
        net!.bridges.push(bridge);
        wire.add({ name: inst.name, ip: inst.ip, port: bridge.port });
      });
      if (options.coordinator) {
        const coordinator = options.coordinator;
        await inParallel(options.instances, async (inst) => {
          const agent = await AgentLink.open(coordinator, inst.name);
          net!.agents.push(agent);
          agent.onConfigure(async (raw) => {
            const shape = parseShape(raw);
            if ('error' in shape) throw new Error(shape.error);
            net!.overrides.set(inst.name, mergeShapes([net!.overrides.get(inst.name) ?? {}, shape]));
            wire.reshape(inst.name);
          });
        });
        await Promise.all(net.agents.map((a) => a.ready()));
      }
      return net;
    } catch (err) {
      await net.close();
      throw err;
    }
  }

  /** The TUN bridge processes, for callers that track what they started. */
  get processes(): readonly TunBridge['process'][] {
    return this.bridges.map((b) => b.process);
  }

  async close(): Promise<void> {
    for (const a of this.agents) a.close();
    await Promise.all(this.bridges.map((b) => b.close()));
    this.wire.close();
  }
}

