/**
 * How often the Kubernetes and Nomad drivers ask which instances have ended: every 2 s, and less
 * often for many instances (one listing holds them all). The coordinator's exit grace covers it.
 */
export function pollInterval(instances: number): number {
  return Math.min(15_000, 2_000 + instances);
}
