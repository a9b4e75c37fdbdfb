import { cidrsOverlap } from '../../model/ipv4.js';
import type { Plan } from '../../schema/ir.js';

/**
 * The compose control network's subnets, in order of preference: 198.19.224.0/19 in /22s, then
 * 198.18.224.0/22, then 10.224.0.0/22 for data subnets that cover both. Explicit, because a
 * subnet Docker picks could fall inside the data subnet.
 */
export const CONTROL_SUBNETS: readonly string[] = [
  ...Array.from({ length: 8 }, (_, i) => `198.19.${224 + 4 * i}.0/22`),
  '198.18.224.0/22',
  '10.224.0.0/22',
];

/**
 * A control subnet clear of the plan's data subnet and of `used` (the Docker host's networks).
 * A compiled deployment defaults to the first (TGC_CONTROL_SUBNET overrides it); `tgc run`
 * picks one on the Docker host, among those in 198.18.0.0/15 only.
 */
export function controlSubnet(plan: Plan, used?: readonly string[]): string | undefined {
  const candidates = used ? CONTROL_SUBNETS.filter((c) => c.startsWith('198.')) : CONTROL_SUBNETS;
  return candidates.find((c) => !cidrsOverlap(c, plan.network.subnet) && !(used ?? []).some((u) => cidrsOverlap(c, u)));
}
