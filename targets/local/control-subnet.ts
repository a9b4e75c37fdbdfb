import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIpv4, parseIpv4 } from '../../model/ipv4.js';
import { EnvironmentError } from '../driver/environment-error.js';
import { processAlive } from '../driver/process-alive.js';

/** A local run's control network: its bridge holds `gateway`, instances get `first + 2 + i`. */
export interface ControlSubnet {
  readonly gateway: string;
  readonly prefix: number;
  /** The block's first address, as a number. */
  readonly first: number;
}

/** Where every local run's control block is taken from. */
const POOL = { first: parseIpv4('198.19.0.0'), prefix: 17 };

function block(first: number, prefix: number): ControlSubnet {
  return { gateway: formatIpv4(first + 1), prefix, first };
}

/** The pool's first block: what a run that shares the host with no other takes, and --dry-run shows. */
export const DEFAULT_CONTROL_SUBNET = block(POOL.first, POOL.prefix);

/**
 * The first block of the pool, big enough for `instances` (its network and broadcast addresses,
 * the gateway), that overlaps none of `taken` (the host's IPv4 addresses as `a.b.c.d/len`): so
 * runs side by side each get their own. A /24 at least.
 */
export function freeControlSubnet(instances: number, taken: readonly string[]): ControlSubnet | undefined {
  const prefix = Math.min(24, 32 - Math.ceil(Math.log2(instances + 4)));
  if (prefix < POOL.prefix) return undefined;
  const size = 2 ** (32 - prefix);
  const ranges = taken.map((cidr) => {
    const [ip, len] = cidr.split('/');
    const span = 2 ** (32 - Number(len));
    const start = parseIpv4(ip!) - (parseIpv4(ip!) % span);
    return [start, start + span] as const;
  });
  for (let first = POOL.first; first + size <= POOL.first + 2 ** (32 - POOL.prefix); first += size) {
    if (!ranges.some(([a, b]) => a < first + size && first < b)) return block(first, prefix);
  }
  return undefined;
}

/**
 * Runs `fn` while holding the host's lock on control blocks, so two runs starting at once do
 * not take the same one. A lock whose holder is gone is taken over; where the lock cannot be
 * written (a rootless run, in a network namespace of its own), there is nothing to share.
 */
export async function withControlLock<T>(fn: () => Promise<T>): Promise<T> {
  const dir = join(process.getuid?.() === 0 ? '/run' : tmpdir(), 'tgc-local-control.lock');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') return fn();
      if (!holderAlive(dir)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new EnvironmentError(`another local run has held ${dir} for 30 s; if none is starting, remove it`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function holderAlive(dir: string): boolean {
  try {
    return processAlive(Number(readFileSync(join(dir, 'pid'), 'utf8')));
  } catch {
    return true; // being written: give it a moment
  }
}
