import type { PlanEvent } from '../schema/ir.js';
import { describeShape } from './describe-shape.js';
import { formatDuration } from './format-units.js';

/** A scheduled event for people: when (`at 20s`, `after written ×2 +2s`) and what (`partition a-0 | b-0`). */
export function describeEvent(e: PlanEvent): { readonly when: string; readonly action: string } {
  const delay = e.delayMs > 0 ? ` +${formatDuration(e.delayMs)}` : '';
  const when =
    'atMs' in e.trigger
      ? `at ${formatDuration(e.trigger.atMs)}${delay}`
      : `after ${e.trigger.state} ×${e.trigger.count}${delay}`;
  const a = e.action;
  const action =
    a.kind === 'partition'
      ? `partition ${a.sides.map((s) => s.join(' ')).join(' | ')}`
      : a.kind === 'heal'
        ? 'heal every partition'
        : a.kind === 'link'
          ? `link ${a.from.join(' ')} → ${a.to.join(' ')}: ${describeShape(a.shape)}`
          : `${a.kind} ${a.instances.join(' ')}`;
  return { when, action };
}
