import { EXECUTABLE_MISSING } from '../driver/messages.js';
import { onPath } from '../driver/exec.js';
import type { Target } from '../target.js';
import { k8sRenderer } from './render.js';
import { k8sCommands } from './steps.js';

/** Kubernetes: one manifest (`tgc.yaml`); run with kubectl against the current context. */
export const k8sTarget: Target = {
  ...k8sRenderer,
  steps: (o) => k8sCommands(o.plan, o),
  environment: (o) => (onPath('kubectl', o.env.PATH) ? undefined : EXECUTABLE_MISSING.kubectl),
  run: async (o) => (await import('./run.js')).runK8s(o),
};
