/**
 * The unit grammars of the composition, each a pure parser returning `undefined` for text it
 * does not accept. The JSON Schema patterns accept the same texts; these give them meaning.
 */

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** `"50ms"`, `"1.5s"`, `"1m30s"` → milliseconds (fractions kept: `"100us"` → 0.1). */
export function parseDuration(text: string): number | undefined {
  const re = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? round(total) : undefined;
}

/** `"1%"`, `"0.5%"` → 1, 0.5 (percent, 0–100). */
export function parsePercent(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 100 ? n : undefined;
}

/**
 * Unit prefixes of rates and sizes: decimal (`k`, `K`, `M`…, powers of 1000) and binary (`Ki`,
 * `Mi`…, powers of 1024). Each grammar's pattern says which of them it accepts.
 */
const PREFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  ki: 1024,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/**
 * Bits (`"500kbit"`, `"10Mbit"`, `"8Kibit"`) or bytes per second (`"2MB/s"`, `"512KiB/s"`)
 * → bits per second. Decimal prefixes are powers of 1000, `i` prefixes powers of 1024.
 * `"Mbps"` is refused on purpose: tc reads it as megabytes, most people as megabits.
 */
export function parseRate(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kKMGT]i?)?(bit|B\/s)$/.exec(text);
  if (!m) return undefined;
  const factor = PREFIX[m[2] ?? ''];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor * (m[3] === 'B/s' ? 8 : 1));
}

/** `2`, `0.5`, `"500m"`, `"2"` → millicores. */
export function parseCpu(value: number | string): number | undefined {
  if (typeof value === 'number') return value > 0 ? Math.round(value * 1000) : undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(value);
  if (!m) return undefined;
  const millis = Math.round(Number(m[1]) * (m[2] ? 1 : 1000));
  return millis > 0 ? millis : undefined;
}

/** `"512Mi"`, `"1G"`, `"1048576"` → bytes. */
export function parseMemory(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kMGT]i?|Ki)?$/.exec(text);
  if (!m) return undefined;
  const factor = PREFIX[m[2] ?? ''];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * factor);
  return bytes > 0 ? bytes : undefined;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
