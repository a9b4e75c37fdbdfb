import type { ShapeSpec } from '../schema/composition.js';
import type { LinkShape } from '../schema/ir.js';
import { parseDuration, parsePercent, parseRate } from './units.js';

/** A link shape in composition notation (checked) → the IR's numbers; fields not written stay absent. */
export function normalizeShape(s: ShapeSpec): LinkShape {
  const ms = (v: string | undefined) => (v === undefined ? undefined : parseDuration(v));
  const pct = (v: string | undefined) => (v === undefined ? undefined : parsePercent(v));
  const fields: [keyof LinkShape, unknown][] = [
    ['latencyMs', ms(s.latency)],
    ['jitterMs', ms(s.jitter)],
    ['distribution', s.distribution],
    ['lossPct', pct(s.loss)],
    ['lossCorrelationPct', pct(s.loss_correlation)],
    ['duplicatePct', pct(s.duplicate)],
    ['duplicateCorrelationPct', pct(s.duplicate_correlation)],
    ['corruptPct', pct(s.corrupt)],
    ['corruptCorrelationPct', pct(s.corrupt_correlation)],
    ['reorderPct', pct(s.reorder)],
    ['reorderCorrelationPct', pct(s.reorder_correlation)],
    ['bandwidthBps', s.bandwidth === undefined ? undefined : parseRate(s.bandwidth)],
    ['blocked', s.blocked],
  ];
  return Object.fromEntries(fields.filter(([, v]) => v !== undefined)) as LinkShape;
}
