import type { Instance, Plan } from '../schema/ir.js';

/** Every instance of the plan, in order: groups as written, `<group>-0` … `<group>-(n-1)`. */
export function expandInstances(plan: Plan): Instance[] {
  const out: Instance[] = [];
  for (const g of plan.groups) {
    for (let i = 0; i < g.instances; i++)
      out.push({ name: `${g.id}-${i}`, group: g.id, groupIndex: i, index: g.firstIndex + i });
  }
  return out;
}
