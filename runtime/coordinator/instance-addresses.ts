import { dnsLabel } from '../../model/dns-label.js';

/**
 * Instance by the address its connections come from: its agent's (they share a network namespace
 * in containers) or, on the local target, its namespace's (the driver knows them). How a client
 * that never says its name (Testground's sdk-go, over WebSocket) is told apart.
 */
export class InstanceAddresses {
  private readonly byIp = new Map<string, string>();
  /** Addresses more than one instance's agent came from (in-process agents): they tell nothing. */
  private readonly shared = new Set<string>();

  get(ip: string): string | undefined {
    return this.byIp.get(ip);
  }

  /** `ip` belongs to instance `name`; `certain` (the driver knows it) overrides what agents suggest. */
  know(ip: string, name: string, certain = false): void {
    if (certain) {
      this.shared.delete(ip);
      this.byIp.set(ip, name);
      return;
    }
    if (this.shared.has(ip)) return;
    const had = this.byIp.get(ip);
    if (had === undefined) this.byIp.set(ip, name);
    else if (had !== name) {
      this.byIp.delete(ip);
      this.shared.add(ip);
    }
  }
}

/** The run's group a Testground group id names: itself, or the group tgc made of it (a DNS label). */
export function groupOf(id: string, groups: Readonly<Record<string, number>> | undefined): string | undefined {
  if (!groups || id in groups) return id;
  const label = dnsLabel(id);
  return Object.keys(groups).find((g) => g === label);
}
