// Testground's per-subnet rules (network.Config `rules`, sdk-go network/types.go) as per-destination
// shapes: each instance whose data address a rule's subnet holds gets that rule's shape, the most
// specific subnet first, as Testground's sidecar orders its routes.
import { parseIpv4, prefixMask } from '../../model/ipv4.js';
import { parseShape } from '../../model/parse-shape.js';
import type { LinkShape } from '../../schema/ir.js';
import { shapeFromConfig } from './testground-shape.js';

/** sdk-go LinkShape fields other than `filter`. */
const SHAPE_FIELDS = [
  'latency',
  'jitter',
  'bandwidth',
  'loss',
  'corrupt',
  'corrupt_corr',
  'reorder',
  'reorder_corr',
  'duplicate',
  'duplicate_corr',
] as const;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The shape of `self`'s traffic to each other instance a rule covers (data addresses by
 * instance), or why the rules cannot be applied. No rules: an empty table (any earlier rules go).
 */
export function ruleTable(
  config: Record<string, unknown>,
  self: string,
  addresses: ReadonlyMap<string, string>,
): { readonly table: Map<string, LinkShape> } | { readonly error: string } {
  const rules = config.rules;
  if (rules === undefined || rules === null) return { table: new Map() };
  if (!Array.isArray(rules)) return { error: 'rules must be a list' };
  const parsed: { mask: number; address: number; prefix: number; shape: LinkShape }[] = [];
  for (const [i, rule] of rules.entries()) {
    if (!isObject(rule) || typeof rule.subnet !== 'string')
      return { error: `rule ${i + 1} has no subnet (a CIDR such as 198.18.0.0/16)` };
    if (rule.subnet.includes(':')) return { error: `rule ${i + 1}: IPv6 subnets (${rule.subnet}) are not supported` };
    // As Go's net.ParseCIDR: any prefix to /32, host bits ignored.
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(rule.subnet);
    const prefix = Number(m?.[2]);
    if (!m || prefix > 32 || m[1]!.split('.').some((o) => Number(o) > 255))
      return { error: `rule ${i + 1}: subnet "${rule.subnet}" is not an IPv4 CIDR (such as 198.18.0.0/16)` };
    // A rule that only filters (Testground's rules are routes) keeps the default shape; one with
    // shape fields of its own is that subnet's shape.
    const own = SHAPE_FIELDS.some((k) => typeof rule[k] === 'number' && (rule[k] as number) > 0);
    const base = own ? rule : isObject(config.default) ? config.default : {};
    let shape = parseShape(shapeFromConfig({ default: { ...base, filter: rule.filter }, enable: config.enable }));
    if ('error' in shape) return { error: `rule ${i + 1}: ${shape.error}` };
    // Reject: refused at once, where Drop is silence.
    if (rule.filter === 1 && shape.blocked) shape = { ...shape, refused: true };
    const mask = prefixMask(prefix);
    parsed.push({ mask, address: (parseIpv4(m[1]!) & mask) >>> 0, prefix, shape });
  }
  // Most specific first; among equals, the earlier rule.
  const ordered = parsed.map((r, i) => ({ ...r, i })).sort((a, b) => b.prefix - a.prefix || a.i - b.i);
  const table = new Map<string, LinkShape>();
  for (const [name, ip] of addresses) {
    if (name === self) continue;
    const at = parseIpv4(ip);
    const rule = ordered.find((r) => (at & r.mask) >>> 0 === r.address);
    if (rule) table.set(name, rule.shape);
  }
  return { table };
}
