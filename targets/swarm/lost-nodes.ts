import type { SwarmNode, SwarmTask } from './swarm-cli.js';

/** A node lost with the instances it was running. */
export interface LostNode {
  readonly node: SwarmNode;
  readonly instances: readonly string[];
}

/**
 * Which nodes are lost: not ready on two looks at least `graceMs` apart. A manager under load
 * can report a busy node down for a moment (a missed heartbeat); a node whose daemon is gone
 * stays down. Each node is reported once, and only while it runs instances.
 */
export class LostNodes {
  private readonly downSince = new Map<string, number>();
  private readonly reported = new Set<string>();

  constructor(private readonly graceMs = 10_000) {}

  /** Whether node `id` was reported lost: what ran there stays there, nobody waits for it. */
  has(id: string): boolean {
    return this.reported.has(id);
  }

  /** The nodes lost as of `now`, given the manager's nodes and the run's latest tasks. */
  check(nodes: readonly SwarmNode[], tasks: readonly SwarmTask[], ended: ReadonlySet<string>, now = Date.now()) {
    const lost: LostNode[] = [];
    for (const n of nodes) {
      if (n.state === 'ready') {
        this.downSince.delete(n.id);
        continue;
      }
      const since = this.downSince.get(n.id) ?? now;
      this.downSince.set(n.id, since);
      if (now - since < this.graceMs || this.reported.has(n.id)) continue;
      const on = tasks.filter((t) => t.nodeId === n.id && t.service !== 'agent' && !ended.has(t.state));
      if (on.length === 0) continue;
      this.reported.add(n.id);
      lost.push({ node: n, instances: on.map((t) => t.service) });
    }
    return lost;
  }
}
