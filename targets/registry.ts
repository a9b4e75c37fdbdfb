import { composeTarget } from './compose/render-compose.js';
import type { Target, TargetName } from './target.js';

/** The compile targets, registered explicitly. */
export const TARGETS: Readonly<Record<TargetName, Target>> = {
  compose: composeTarget,
  k8s: composeTarget,
  nomad: composeTarget,
};
