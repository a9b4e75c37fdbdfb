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

const RATE_PREFIX: Record<string, number> = {
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
  const factor = RATE_PREFIX[m[2] ?? ''];
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

const MEMORY_FACTOR: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  ki: 1024,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** `"512Mi"`, `"1G"`, `"1048576"` → bytes. */
export function parseMemory(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kMGT]i?|Ki)?$/.exec(text);
  if (!m) return undefined;
  const factor = MEMORY_FACTOR[m[2] ?? ''];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * factor);
  return bytes > 0 ? bytes : undefined;
}

export interface Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** `"198.18.0.0/16"` → address and prefix; `undefined` for bad octets, prefixes or host bits. */
export function parseCidr(text: string): Cidr | { readonly error: string } {
  const m = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\/([0-9]{1,2})$/.exec(text);
  if (!m) return { error: 'write an IPv4 CIDR such as "198.18.0.0/16"' };
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return { error: 'each part of an IPv4 address is 0–255' };
  const prefix = Number(m[5]);
  if (prefix > 30) return { error: `a /${prefix} leaves no room for instances; use /30 or shorter` };
  const address = parseIpv4(m.slice(1, 5).join('.'));
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) return { error: `host bits are set; did you mean "${formatIpv4(network)}/${prefix}"?` };
  return { address, prefix };
}

/** Dotted IPv4 → its 32-bit value (unsigned). */
export function parseIpv4(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0) >>> 0;
}

export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(address / 2 ** s) % 256).join('.');
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** Whether two IPv4 CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if ('error' in x || 'error' in y) return false;
  const end = (c: Cidr) => c.address + 2 ** (32 - c.prefix);
  return x.address < end(y) && y.address < end(x);
}
