/** IPv4 addresses and CIDR blocks, as 32-bit unsigned numbers. */

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

/** The network mask of a /`prefix` (0–32) as a 32-bit value (unsigned). */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

/** Dotted IPv4 → its 32-bit value (unsigned). */
export function parseIpv4(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0) >>> 0;
}

export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(address / 2 ** s) % 256).join('.');
}

/** Whether two IPv4 CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if ('error' in x || 'error' in y) return false;
  const end = (c: Cidr) => c.address + 2 ** (32 - c.prefix);
  return x.address < end(y) && y.address < end(x);
}
