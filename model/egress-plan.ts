import { linkLayers, ruleKey, type LinkSource } from './link-layers.js';
import type { Group, LinkShape, Network } from '../schema/ir.js';

/** The part of a plan that decides shapes: what a shaping agent inside a deployment is given. */
export interface ShapingPlan {
  /** `classify`: `mark` when receivers shape by the sender's mark (docs/network.md). */
  readonly network: Pick<Network, 'shape' | 'links'> & { readonly classify?: string };
  readonly groups: readonly Pick<Group, 'id' | 'instances' | 'network'>[];
}

/** Groups the mark classification tells apart: DSCP values 1..62 name them (63: shaped at source). */
export const MAX_MARKED_GROUPS = 62;

/** How a plan's kernel backend tells traffic apart on a target (`network.classify`, docs/network.md). */
export function classification(
  plan: { readonly network: Pick<Network, 'classify'>; readonly groups: readonly unknown[] },
  target: string,
): 'address' | 'mark' {
  if (plan.network.classify !== 'auto') return plan.network.classify;
  // Where addresses are known only at run time, the mark keeps set-up O(groups).
  return (target === 'k8s' || target === 'nomad') && plan.groups.length <= MAX_MARKED_GROUPS ? 'mark' : 'address';
}

/** A plan cut down to its `ShapingPlan`, for embedding (the agent's TGC_SHAPING). */
export function shapingPlan(plan: ShapingPlan, classify: 'address' | 'mark' = 'address'): ShapingPlan {
  return {
    network: { shape: plan.network.shape, links: plan.network.links, ...(classify === 'mark' && { classify }) },
    groups: plan.groups.map((g) => ({ id: g.id, instances: g.instances, network: g.network })),
  };
}

/** One distinct shape and the groups whose instances it applies to, as destinations. */
export interface EgressClass {
  readonly shape: LinkShape;
  readonly to: readonly string[];
}

/** What an instance of group `from` sends where: one class per distinct (non-empty) shape. */
export interface EgressPlan {
  readonly from: string;
  readonly classes: readonly EgressClass[];
}

/**
 * Shapes a scheduled event (a partition, a link change) puts on particular destinations of one
 * source instance, as the coordinator sends them to its shaping agent (`links`): the top layer.
 */
export interface DestinationShape {
  /** Instance names. */
  readonly to: readonly string[];
  readonly shape: LinkShape;
}

/** The `links` an agent received, as destination instance → its layer. */
export function destinationTable(links: readonly DestinationShape[]): Map<string, LinkShape> {
  const table = new Map<string, LinkShape>();
  for (const l of links) for (const to of l.to) table.set(to, l.shape);
  return table;
}

/** The group of an instance named `<group>-<n>`. */
export function groupOfInstance(name: string): string {
  return name.slice(0, name.lastIndexOf('-'));
}

/** Merges shapes field by field, later ones winning: the layer rule of docs/composition.md. */
export function mergeShapes(layers: readonly LinkShape[]): LinkShape {
  return Object.assign({}, ...layers) as LinkShape;
}

/** True when a shape changes nothing (no fields, or only zeros and `blocked = false`). */
export function isNeutral(s: LinkShape): boolean {
  return Object.entries(s).every(([k, v]) => (k === 'blocked' ? v === false : k === 'distribution' ? true : v === 0));
}

/**
 * The shape of traffic from an instance of `from` to one of `to`, all layers merged; an
 * instance's mid-run `configure` override goes on top. Pure.
 */
export function linkShape(plan: ShapingPlan, from: string, to: string, override?: LinkShape): LinkShape {
  const rules = new Map(plan.network.links.map((r) => [ruleKey(r.from, r.to), r.shape]));
  const source: LinkSource<LinkShape> = {
    root: plan.network.shape,
    group: (id) => plan.groups.find((g) => g.id === id)?.network,
    rule: (f, t) => rules.get(ruleKey(f, t)),
  };
  const layers = linkLayers(from, to, source);
  return mergeShapes(override ? [...layers, override] : layers);
}

/**
 * The egress plan of an instance of group `from`: destinations grouped by the shape they
 * get, classes in the order their first group appears in the plan. Groups whose traffic is
 * not shaped at all are left out. Pure and deterministic.
 */
export function planEgress(plan: ShapingPlan, from: string, override?: LinkShape): EgressPlan {
  const shaped = plan.groups
    .map((g): [string, LinkShape] => [g.id, linkShape(plan, from, g.id, override)])
    .filter(([, shape]) => !isNeutral(shape));
  return { from, classes: groupByShape(shaped).map(({ shape, items }) => ({ shape, to: items })) };
}

/**
 * Items that get the same shape, together: one entry per distinct shape (fields in any order;
 * `blocked = false` is no field), in the order each shape first appears, with the first object
 * of each shape. Every class of a tc plan, a mark plan or an agent's table is one of these.
 */
export function groupByShape<T>(entries: Iterable<readonly [T, LinkShape]>): { shape: LinkShape; items: T[] }[] {
  const byKey = new Map<string, { shape: LinkShape; items: T[] }>();
  for (const [item, shape] of entries) {
    const key = canonical(shape);
    const group = byKey.get(key);
    if (group) group.items.push(item);
    else byKey.set(key, { shape, items: [item] });
  }
  return [...byKey.values()];
}

function canonical(s: LinkShape): string {
  return JSON.stringify(
    Object.entries(s)
      .filter(([k, v]) => !(k === 'blocked' && v === false))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}
