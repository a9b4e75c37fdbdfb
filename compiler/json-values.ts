import type { Diagnostics } from './diagnostics.js';
import { locate, pointer, type Positions } from './positions.js';

/**
 * Turns what a parser produced into plain JSON values, the only kind the rest of the pipeline
 * sees: dates become their ISO text, safe big integers become numbers, and numbers JSON
 * cannot carry (inf, nan, integers beyond 2^53) are reported instead of silently changed.
 */
export function toJsonValues(value: unknown, positions: Positions, diags: Diagnostics): unknown {
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'bigint') {
      if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
      diags.error(
        'BAD_NUMBER',
        locate(positions, pointer(path)),
        `integer ${v} is beyond what JSON numbers carry exactly (±2^53); write it as a string`,
      );
      return 0;
    }
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return v;
      diags.error('BAD_NUMBER', locate(positions, pointer(path)), `${v} is not a JSON number; write it as a string`);
      return 0;
    }
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        Object.defineProperty(out, k, {
          value: walk(item, [...path, k]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return v;
  };
  return walk(value, []);
}
