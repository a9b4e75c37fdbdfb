import type { Target, TargetName } from './target.js';

/**
 * The targets, registered explicitly; each is loaded only when asked for (the Nomad one brings
 * handlebars, the local one the coordinator and the network, which the others do not need).
 */
export const TARGETS: Readonly<Record<TargetName, () => Promise<Target>>> = {
  local: async () => (await import('./local/index.js')).localTarget,
  compose: async () => (await import('./compose/index.js')).composeTarget,
  swarm: async () => (await import('./swarm/index.js')).swarmTarget,
  k8s: async () => (await import('./k8s/index.js')).k8sTarget,
  nomad: async () => (await import('./nomad/index.js')).nomadTarget,
};
