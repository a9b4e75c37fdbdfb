import type { Target, TargetName } from './target.js';

/**
 * The compile targets, registered explicitly; each is loaded only when asked for (the Nomad
 * one brings handlebars, which the others do not need).
 */
export const TARGETS: Readonly<Record<TargetName, () => Promise<Target>>> = {
  compose: async () => (await import('./compose/render.js')).composeTarget,
  k8s: async () => (await import('./k8s/render.js')).k8sTarget,
  nomad: async () => (await import('./nomad/render.js')).nomadTarget,
};
