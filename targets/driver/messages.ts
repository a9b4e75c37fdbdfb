/** What to do when a target's command-line tool is not on PATH (exit 3). */
export const EXECUTABLE_MISSING = {
  kubectl:
    'the k8s target drives kubectl, which is not on PATH: install it (https://kubernetes.io/docs/tasks/tools/) ' +
    'and point it at a cluster (kubectl config use-context …); tgc compile --target k8s writes the manifests ' +
    'without it',
  nomad:
    'the nomad target drives the nomad CLI, which is not on PATH: install it ' +
    '(https://developer.hashicorp.com/nomad/install) and set NOMAD_ADDR; tgc compile --target nomad writes the job ' +
    'without it',
} as const;
