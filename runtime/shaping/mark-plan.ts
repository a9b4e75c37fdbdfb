import type { LinkShape } from '../../schema/ir.js';
import { groupByShape, isNeutral, linkShape, MAX_MARKED_GROUPS, type ShapingPlan } from '../../model/egress-plan.js';
import { shapedClass, UNLIMITED } from './tc-plan.js';

/** The DSCP of traffic its sender shaped itself (a `configure`, a scheduled event): receivers let it be. */
export const SHAPED_AT_SOURCE = 63;
/** The iptables chains tgc owns (flushed and refilled on every change). */
export const MARK_CHAIN = 'TGC-MARK';
export const DROP_CHAIN = 'TGC-DROP';

/** The DSCP value that names group `index` (its position in the plan) on the wire. */
export function groupDscp(index: number): number {
  return index + 1;
}

export interface MarkPlan {
  /** Rules of the `TGC-MARK` chain (`iptables -t mangle`, hooked from POSTROUTING): the egress mark. */
  readonly mangle: readonly (readonly string[])[];
  /** Rules of the `TGC-DROP` chain (`iptables -t filter`, hooked from INPUT): blocked source groups. */
  readonly filter: readonly (readonly string[])[];
  /** Lines for `tc -batch -`: the ingress redirect to the IFB device and its per-source-group classes. */
  readonly tc: readonly string[];
  readonly needsNetem: boolean;
}

/**
 * The mark classification (docs/network.md): every sender writes its group into the DSCP field
 * of what it sends; every receiver shapes what arrives by the sender's group — the plan's
 * (source group → own group) shape — on an IFB device its ingress is redirected to, and drops
 * what blocked groups send. Each instance installs O(groups) rules and needs no other
 * instance's address. What this instance shapes at the source is marked SHAPED_AT_SOURCE
 * instead: all it sends (`selfShaped`: its own `configure`), or what it sends to `shapedHosts`
 * (a scheduled event's layer). Pure: the agent runs the lines.
 */
export function renderMarkPlan(
  plan: ShapingPlan,
  group: string,
  o: {
    readonly device: string;
    readonly ifb: string;
    readonly selfShaped?: boolean;
    readonly shapedHosts?: readonly string[];
  },
): MarkPlan {
  const index = plan.groups.findIndex((g) => g.id === group);
  if (index < 0) throw new Error(`group ${group} is not in the plan`);
  if (plan.groups.length > MAX_MARKED_GROUPS)
    throw new Error(
      `the mark classification names at most ${MAX_MARKED_GROUPS} groups; this plan has ${plan.groups.length}`,
    );
  const mark = (dscp: number, to: string[] = []) => [
    '-A',
    MARK_CHAIN,
    '-o',
    o.device,
    ...to,
    '-j',
    'DSCP',
    '--set-dscp',
    String(dscp),
  ];
  // The last matching DSCP rule wins: the hosts' come after the instance's own.
  const mangle = [
    mark(o.selfShaped ? SHAPED_AT_SOURCE : groupDscp(index)),
    ...(o.shapedHosts ?? []).map((ip) => mark(SHAPED_AT_SOURCE, ['-d', `${ip}/32`])),
  ];
  const filter: string[][] = [];
  // One ingress class per distinct shape; each source group is one filter on its DSCP.
  const shaped: [number, LinkShape][] = [];
  plan.groups.forEach((g, i) => {
    const shape = linkShape(plan, g.id, group);
    if (shape.blocked)
      filter.push(['-A', DROP_CHAIN, '-i', o.device, '-m', 'dscp', '--dscp', String(groupDscp(i)), '-j', 'DROP']);
    else if (!isNeutral(shape)) shaped.push([groupDscp(i), shape]);
  });
  const classes = groupByShape(shaped).map(({ shape, items }) => ({ shape, dscps: items }));
  const dev = o.ifb;
  const tc = [
    `qdisc add dev ${o.device} handle ffff: ingress`,
    `filter add dev ${o.device} parent ffff: protocol ip prio 1 u32 match u32 0 0 action mirred egress ` +
      `redirect dev ${dev}`,
    `qdisc add dev ${dev} root handle 1: htb default 1`,
    `class add dev ${dev} parent 1: classid 1:1 htb rate ${UNLIMITED}`,
  ];
  let needsNetem = false;
  classes.forEach((c, i) => {
    const minor = (0x10 + i).toString(16);
    const leaf = shapedClass(dev, minor, c.shape);
    tc.push(...leaf.lines);
    needsNetem ||= leaf.netem;
    for (const d of c.dscps)
      tc.push(
        `filter add dev ${dev} parent 1: protocol ip prio 2 u32 match ip dsfield ${d << 2} 0xfc flowid 1:${minor}`,
      );
  });
  return { mangle, filter, tc, needsNetem };
}
