import { composeTarget } from './compose/render-compose.js';
import { k8sTarget } from './k8s/render-k8s.js';
import { nomadTarget } from './nomad/render-nomad.js';
import type { Target, TargetName } from './target.js';

/** The compile targets, registered explicitly. */
export const TARGETS: Readonly<Record<TargetName, Target>> = {
  compose: composeTarget,
  k8s: k8sTarget,
  nomad: nomadTarget,
};
