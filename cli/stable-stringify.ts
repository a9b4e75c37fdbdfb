export interface StableOptions {
  /** Object keys under these property names are sorted; elsewhere the producer's order holds. */
  readonly sortKeysUnder?: readonly string[];
  /** @default 2 */
  readonly indent?: number;
}

/**
 * JSON with a fixed layout, so the same input gives the same bytes on every machine. The IR
 * builds its own objects in a fixed key order; user maps (params, env) are sorted, since
 * TOML and YAML may list the same keys in any order.
 */
export function stableStringify(value: unknown, options: StableOptions = {}): string {
  const sortUnder = new Set(options.sortKeysUnder ?? []);
  const sortAll = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortAll);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort())
        Object.defineProperty(out, k, { value: sortAll((v as Record<string, unknown>)[k]), enumerable: true });
      return out;
    }
    return v;
  };
  return JSON.stringify(
    value,
    function (this: unknown, key: string, v: unknown) {
      return sortUnder.has(key) && v !== null && typeof v === 'object' && !Array.isArray(v) ? sortAll(v) : v;
    },
    options.indent ?? 2,
  );
}
