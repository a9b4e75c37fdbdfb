import type { Plan } from '../schema/ir.js';

/**
 * The plan with images replaced from the command line: `IMAGE` for every group, `GROUP=IMAGE`
 * for one (later ones win). A group given an image no longer builds. Resolves to the reason
 * when an override names no group or is not an image.
 */
export function overrideImages(plan: Plan, specs: readonly string[]): Plan | { readonly error: string } {
  if (specs.length === 0) return plan;
  const byGroup = new Map<string | undefined, string>();
  for (const spec of specs) {
    const m = /^(?:([a-z0-9][a-z0-9-]*)=)?(\S+)$/.exec(spec);
    if (!m) return { error: `--image ${JSON.stringify(spec)}: write IMAGE or GROUP=IMAGE, with no spaces` };
    if (m[1] !== undefined && !plan.groups.some((g) => g.id === m[1]))
      return {
        error: `--image ${spec}: the plan has no group "${m[1]}" (groups: ${plan.groups.map((g) => g.id).join(', ')})`,
      };
    byGroup.set(m[1], m[2]!);
  }
  return {
    ...plan,
    groups: plan.groups.map((g) => {
      const image = byGroup.get(g.id) ?? byGroup.get(undefined);
      if (image === undefined) return g;
      const { build: _build, ...rest } = g;
      return { ...rest, image };
    }),
  };
}
