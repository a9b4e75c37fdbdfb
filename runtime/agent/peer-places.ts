import type { WireEndpoint } from '../shaping/wire.js';

/** One instance's place on the wires of a multi-host run: its data address on the wire at `host:port`. */
export interface WireSite {
  readonly name: string;
  readonly ip: string;
  readonly host: string;
  readonly port: number;
}

/**
 * What one entry of the endpoints topic means for the wire of the host at `here`: the remote
 * endpoint where another host has the instance, or this host's own endpoint of it again (an
 * instance that ran elsewhere and restarted here is here once its own entry, the later, is
 * read — also when this host starts following the topic only then, from its first entry).
 * Undefined for an entry that is not a place, or names an instance this host never had.
 */
export function placeOf(
  payload: unknown,
  here: string | undefined,
  local: ReadonlyMap<string, WireEndpoint>,
): WireEndpoint | undefined {
  const p = payload as Partial<WireSite> | null;
  if (typeof p?.name !== 'string' || typeof p.ip !== 'string' || typeof p.host !== 'string') return undefined;
  if (typeof p.port !== 'number') return undefined;
  if (p.host === here) return local.get(p.name);
  return { name: p.name, ip: p.ip, host: p.host, port: p.port, remote: true };
}
