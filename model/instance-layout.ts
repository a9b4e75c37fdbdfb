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

type Counted = { readonly role?: 'service'; readonly instances: number };

/** How many instances decide the run: what the coordinator waits for and barriers count by default. */
export function testInstanceCount(groups: readonly Counted[]): number {
  return groups.filter((g) => g.role !== 'service').reduce((n, g) => n + g.instances, 0);
}

/**
 * What a run's coordinator expects of a plan: the test instances (which decide the run), their
 * count per group, and the service groups' (which may attach, deciding nothing).
 */
export function coordinatorCounts(groups: readonly (Counted & { readonly id: string })[]): {
  readonly instances: number;
  readonly groups: Readonly<Record<string, number>>;
  readonly services: Readonly<Record<string, number>>;
} {
  const counts = (role: 'test' | 'service') =>
    Object.fromEntries(groups.filter((g) => (g.role ?? 'test') === role).map((g) => [g.id, g.instances]));
  return { instances: testInstanceCount(groups), groups: counts('test'), services: counts('service') };
}
