import type { LinkShape } from '../../schema/ir.js';
import { cidrBlocks } from './cidr-blocks.js';
import type { EgressPlan } from '../../model/egress-plan.js';

/** Links with nothing to limit get this rate, far above any data interface. */
export const UNLIMITED = '10gbit';

export interface TcPlanOptions {
  /** The instance's data interface. */
  readonly device: string;
  /** Data addresses of each group's instances. */
  readonly addresses: ReadonlyMap<string, readonly string[]>;
  /**
   * Shapes for particular destination addresses (scheduled events: partitions, link changes),
   * each whole (every layer merged): matched before the groups' filters.
   */
  readonly hosts?: readonly { readonly shape: LinkShape; readonly addresses: readonly string[] }[];
}

export interface TcPlan {
  /** Lines for `tc -batch -`: the whole egress setup of the device. */
  readonly batch: readonly string[];
  /** Whether any line needs the `sch_netem` qdisc. */
  readonly needsNetem: boolean;
}

/**
 * An egress plan as tc commands: an HTB root whose default class (1:1) leaves unmatched
 * traffic alone (the coordinator and anything else that is not an instance); one class per
 * distinct shape with its rate, a netem leaf for delay/jitter/loss/duplicate/corrupt/reorder,
 * and u32 filters by destination block; blocked destinations are discarded by a filter.
 * Pure: the agent runs the lines.
 */
export function renderTc(egress: EgressPlan, options: TcPlanOptions): TcPlan {
  const dev = options.device;
  const batch = [
    `qdisc add dev ${dev} root handle 1: htb default 1`,
    `class add dev ${dev} parent 1: classid 1:1 htb rate ${UNLIMITED}`,
  ];
  let needsNetem = false;
  const hosts = options.hosts ?? [];
  // Host filters come first (priorities 1 and 2); the groups' then move behind them.
  const after = hosts.length > 0 ? 2 : 0;
  const classes = [
    ...hosts.map((h, i) => ({ shape: h.shape, blocks: [...h.addresses], minor: 0x800 + i, prio: 0 })),
    ...egress.classes.map((c, i) => ({
      shape: c.shape,
      blocks: c.to.flatMap((g) => options.addresses.get(g) ?? []),
      minor: 0x10 + i,
      prio: after,
    })),
  ];
  classes.forEach((c) => {
    // A host whose shape is neutral still gets its own (unshaped) class: it is the exception to
    // its group's shape.
    if (c.blocks.length === 0) return;
    const targets = cidrBlocks(c.blocks);
    if (c.shape.blocked) {
      // Redirected to loopback, where a packet for another host is discarded without a word
      // to the sender: a silent partition (the drop action, act_gact, is often missing).
      for (const t of targets)
        batch.push(
          `filter add dev ${dev} parent 1: protocol ip prio ${1 + c.prio} u32 match ip dst ${t} action mirred ` +
            `egress redirect dev lo`,
        );
      return;
    }
    const minor = c.minor.toString(16);
    const leaf = shapedClass(dev, minor, c.shape);
    batch.push(...leaf.lines);
    needsNetem ||= leaf.netem;
    for (const t of targets)
      batch.push(
        `filter add dev ${dev} parent 1: protocol ip prio ${2 + c.prio} u32 match ip dst ${t} flowid 1:${minor}`,
      );
  });
  return { batch, needsNetem };
}

/** An HTB class under 1: with the shape's rate, and a netem leaf when the shape needs one. */
export function shapedClass(dev: string, minor: string, shape: LinkShape): { lines: string[]; netem: boolean } {
  const rate = shape.bandwidthBps ? `${shape.bandwidthBps}bit` : UNLIMITED;
  const lines = [`class add dev ${dev} parent 1: classid 1:${minor} htb rate ${rate} ceil ${rate}`];
  const netem = netemArgs(shape);
  if (netem) lines.push(`qdisc add dev ${dev} parent 1:${minor} handle ${minor}: netem limit 10000 ${netem}`);
  return { lines, netem: netem !== '' };
}

/** The netem options of a shape, or '' when it needs none (rate and blocking are not netem's). */
export function netemArgs(s: LinkShape): string {
  const parts: string[] = [];
  const pct = (v: number) => `${v}%`;
  if (s.latencyMs || s.jitterMs) {
    parts.push(`delay ${s.latencyMs ?? 0}ms`);
    if (s.jitterMs) {
      parts.push(`${s.jitterMs}ms`);
      if (s.distribution) parts.push(`distribution ${s.distribution}`);
    }
  }
  const pair = (name: string, v: number | undefined, corr: number | undefined) => {
    if (v) parts.push(`${name} ${pct(v)}${corr ? ` ${pct(corr)}` : ''}`);
  };
  pair('loss', s.lossPct, s.lossCorrelationPct);
  pair('duplicate', s.duplicatePct, s.duplicateCorrelationPct);
  pair('corrupt', s.corruptPct, s.corruptCorrelationPct);
  pair('reorder', s.reorderPct, s.reorderCorrelationPct);
  return parts.join(' ');
}
