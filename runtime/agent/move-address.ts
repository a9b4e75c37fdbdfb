import { readFileSync, writeFileSync } from 'node:fs';
import { formatIpv4, parseIpv4, prefixMask } from '../../model/ipv4.js';
import { runCommand } from '../shaping/run-command.js';

/** Why `ip` cannot be an address in the data network `subnet` (`a.b.c.d/len`); undefined when it can. */
export function outsideSubnet(ip: string, subnet: string): string | undefined {
  const [base, len] = subnet.split('/');
  const mask = prefixMask(Number(len));
  const network = (parseIpv4(base!) & mask) >>> 0;
  if ((parseIpv4(ip) & mask) >>> 0 === network) return undefined;
  return `${ip} is outside the data network ${formatIpv4(network)}/${len}`;
}

/**
 * Gives the data interface `device` of the namespace at `netns` (a path: `/proc/<pid>/fd/<fd>`,
 * `/run/netns/<name>`) its new address in place of the old one.
 */
export async function moveAddress(
  netns: string,
  device: string,
  from: { readonly ip: string; readonly prefix: number },
  to: { readonly ip: string; readonly prefix: number },
): Promise<void> {
  // The old one goes first: a new address in the same subnet would be its secondary, and go with it.
  for (const [verb, a] of [
    ['del', from],
    ['add', to],
  ] as const) {
    const r = await runCommand('nsenter', [`--net=${netns}`, 'ip', 'addr', verb, `${a.ip}/${a.prefix}`, 'dev', device]);
    if (r.code !== 0) throw new Error(`cannot move ${device} to ${to.ip}/${to.prefix}: ${r.stderr.trim()}`);
  }
}

/**
 * Rewrites the hosts files at `paths` in place (each is a container's bind-mounted /etc/hosts):
 * the names at `from` resolve to `to`. A file that cannot be read or written is left as it is.
 */
export function renameInHosts(paths: readonly string[], from: string, to: string): void {
  for (const path of paths) {
    try {
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n').map((l) => (l.split(/\s/, 1)[0] === from ? to + l.slice(from.length) : l));
      const next = lines.join('\n');
      if (next !== text) writeFileSync(path, next);
    } catch {
      // Its container has ended: nobody reads that file any more.
    }
  }
}
