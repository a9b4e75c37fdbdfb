/** How a group asked for its instances, as far as counting goes. */
export type CountSpec = { readonly count: number } | { readonly percentage: number };

/**
 * Turns counts and percentages into instance counts. Percentages are fractions of `total`;
 * together with the fixed counts they must fill `total` exactly. Each percentage group gets
 * `floor(p × share)`, and the instances left over go one each to the groups with the largest
 * fractional remainders, ties to the group written first (the largest remainder method), so
 * the counts always add up to `total`.
 */
export function resolveCounts(
  specs: readonly CountSpec[],
  total: number | undefined,
): number[] | { readonly problem: 'no-total' | 'sum' | 'mismatch' } {
  const fixed = specs.reduce((s, g) => s + ('count' in g ? g.count : 0), 0);
  const pct = specs.filter((g): g is { percentage: number } => 'percentage' in g);
  if (pct.length === 0) {
    if (total !== undefined && total !== fixed) return { problem: 'mismatch' };
    return specs.map((g) => ('count' in g ? g.count : 0));
  }
  if (total === undefined) return { problem: 'no-total' };
  const share = total - fixed;
  const sum = pct.reduce((s, g) => s + g.percentage, 0);
  if (share < 0 || Math.abs(sum * total - share) > 1e-6 * Math.max(1, total)) return { problem: 'sum' };
  const exact = specs.map((g) => ('percentage' in g ? g.percentage * total : g.count));
  const counts = exact.map((x, i) => ('percentage' in specs[i]! ? Math.floor(x + 1e-9) : x));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = specs
    .map((g, i) => ({ i, rem: 'percentage' in g ? Math.max(0, exact[i]! - counts[i]!) : -1 }))
    .filter((x) => x.rem >= 0)
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i]!++;
    left--;
  }
  return counts;
}
