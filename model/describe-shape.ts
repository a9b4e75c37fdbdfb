import type { LinkShape } from '../schema/ir.js';
import { formatDuration, formatRate } from './format-units.js';

/** A shape in the composition's notation, for people: `latency 1000ms ± 10ms, loss 1%`; `-` when empty. */
export function describeShape(s: LinkShape): string {
  const parts: string[] = [];
  if (s.blocked) parts.push('blocked');
  if (s.latencyMs !== undefined)
    parts.push(
      `latency ${formatDuration(s.latencyMs)}` +
        (s.jitterMs !== undefined
          ? ` ± ${formatDuration(s.jitterMs)}${s.distribution ? ` ${s.distribution}` : ''}`
          : ''),
    );
  const pct = (label: string, v: number | undefined, corr: number | undefined) => {
    if (v !== undefined) parts.push(`${label} ${v}%${corr !== undefined ? ` (corr ${corr}%)` : ''}`);
  };
  pct('loss', s.lossPct, s.lossCorrelationPct);
  pct('duplicate', s.duplicatePct, s.duplicateCorrelationPct);
  pct('corrupt', s.corruptPct, s.corruptCorrelationPct);
  pct('reorder', s.reorderPct, s.reorderCorrelationPct);
  if (s.bandwidthBps !== undefined) parts.push(`rate ${formatRate(s.bandwidthBps)}`);
  return parts.length ? parts.join(', ') : '-';
}
