import { onPath } from '../driver/exec.js';
import type { Target } from '../target.js';
import { k8sRenderer } from './render.js';
import { k8sCommands } from './steps.js';

/** What to do without the CLI this target drives (exit 3). */
const NO_KUBECTL =
  'the k8s target drives kubectl, which is not on PATH: install it (https://kubernetes.io/docs/tasks/tools/) ' +
  'and point it at a cluster (kubectl config use-context …); tgc compile --target k8s writes the manifests ' +
  'without it';

/** Kubernetes: one manifest (`tgc.yaml`); run with kubectl against the current context. */
export const k8sTarget: Target = {
  ...k8sRenderer,
  steps: (o) => k8sCommands(o.plan, o),
  environment: (o) => (onPath('kubectl', o.env.PATH) ? undefined : NO_KUBECTL),
  run: async (o) => (await import('./run.js')).runK8s(o),
};
