import { formatIpv4, parseCidr } from './units.js';
import type { Plan } from '../schema/ir.js';

export interface PlannedInstance {
  /** `<group>-<n>`. */
  readonly name: string;
  readonly group: string;
  /** Global index, 0-based, in plan order. */
  readonly index: number;
  readonly dataIp: string;
}

/** The instances of a plan with their data addresses: the subnet's `.2` onwards, in plan order (`.1` is the gateway). */
export function instanceLayout(plan: Plan, subnet = plan.network.subnet): PlannedInstance[] {
  const cidr = parseCidr(subnet);
  if ('error' in cidr) throw new Error(cidr.error);
  const out: PlannedInstance[] = [];
  for (const g of plan.groups)
    for (let i = 0; i < g.instances; i++)
      out.push({
        name: `${g.id}-${i}`,
        group: g.id,
        index: g.firstIndex + i,
        dataIp: formatIpv4(cidr.address + 2 + g.firstIndex + i),
      });
  return out;
}
