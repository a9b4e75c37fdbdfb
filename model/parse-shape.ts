import { normalizeShape } from './normalize-shape.js';
import { parseDuration, parsePercent, parseRate } from './units.js';
import { SHAPE_KEYS, type ShapeSpec } from '../schema/composition.js';
import type { LinkShape } from '../schema/ir.js';

const DISTRIBUTIONS = ['normal', 'pareto', 'paretonormal', 'uniform'];

/**
 * A shape in composition notation (`{ latency: "100ms", loss: "1%" }`), as a mid-run
 * `configure` sends it, checked and turned into base units; or the reason it is refused.
 */
export function parseShape(raw: unknown): LinkShape | { readonly error: string } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { error: 'a shape is an object such as { latency: "100ms" }' };
  for (const [key, value] of Object.entries(raw)) {
    if (!(SHAPE_KEYS as readonly string[]).includes(key))
      return { error: `unknown shape key "${key}" (known: ${SHAPE_KEYS.join(', ')})` };
    const bad = (what: string) => ({ error: `${key}: ${JSON.stringify(value)} is not ${what}` });
    if (key === 'blocked') {
      if (typeof value !== 'boolean') return bad('true or false');
    } else if (key === 'distribution') {
      if (!DISTRIBUTIONS.includes(value as string)) return bad(`one of ${DISTRIBUTIONS.join(', ')}`);
    } else if (typeof value !== 'string') return bad('a string');
    else if (key === 'latency' || key === 'jitter') {
      if (parseDuration(value) === undefined) return bad('a duration such as "50ms"');
    } else if (key === 'bandwidth') {
      if (!parseRate(value)) return bad('a non-zero rate such as "10Mbit"');
    } else if (parsePercent(value) === undefined) return bad('a percentage such as "1%"');
  }
  return normalizeShape(raw as ShapeSpec);
}
