import { formatIpv4, parseIpv4 } from '../../model/ipv4.js';

/**
 * The fewest CIDR blocks that cover exactly these addresses: groups laid out in contiguous
 * address ranges need a handful of filters instead of one per instance.
 */
export function cidrBlocks(ips: readonly string[]): string[] {
  const sorted = [...new Set(ips.map(parseIpv4))].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    // Extend a run of consecutive addresses, then cut it into aligned power-of-two blocks.
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    let start = sorted[i]!;
    const end = sorted[j]!;
    while (start <= end) {
      let size = 1;
      while (size * 2 <= end - start + 1 && start % (size * 2) === 0) size *= 2;
      out.push(`${formatIpv4(start)}/${32 - Math.log2(size)}`);
      start += size;
    }
    i = j + 1;
  }
  return out;
}
