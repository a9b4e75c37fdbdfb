import type { Instance, Plan } from '../schema/ir.js';
import { formatIpv4, parseCidr } from './ipv4.js';

/** An instance of the plan, with its data address where the target assigns addresses in order. */
export interface PlannedInstance extends Instance {
  /** The subnet's `.2` onwards, in plan order (`.1` is the gateway). */
  readonly dataIp: string;
}

/**
 * Every instance of the plan, in order: groups as written, `<group>-0` … `<group>-(n-1)`, each
 * with its global index and its data address in `subnet` (default: the plan's data subnet).
 */
export function instanceLayout(plan: Plan, subnet = plan.network.subnet): PlannedInstance[] {
  const cidr = parseCidr(subnet);
  if ('error' in cidr) throw new Error(cidr.error);
  const out: PlannedInstance[] = [];
  for (const g of plan.groups) {
    for (let i = 0; i < g.instances; i++) {
      const index = g.firstIndex + i;
      out.push({
        name: `${g.id}-${i}`,
        group: g.id,
        groupIndex: i,
        index,
        dataIp: formatIpv4(cidr.address + 2 + index),
      });
    }
  }
  return out;
}

/** The plan's instances as the IR describes them (`tgc plan --json`): no addresses. */
export function expandInstances(plan: Plan): Instance[] {
  return instanceLayout(plan).map(({ name, group, groupIndex, index }) => ({ name, group, groupIndex, index }));
}

/** The groups whose instances decide the run (everything but `role = "service"`). */
export function testGroups<G extends { readonly role?: 'service'; readonly id: string; readonly instances: number }>(
  groups: readonly G[],
): G[] {
  return groups.filter((g) => g.role !== 'service');
}

/** How many instances decide the run: what the coordinator waits for and barriers count by default. */
type Counted = { readonly role?: 'service'; readonly instances: number };

export function testInstanceCount(groups: readonly Counted[]): number {
  return groups.filter((g) => g.role !== 'service').reduce((n, g) => n + g.instances, 0);
}
