import { containerExit } from '../driver/exit-sink.js';

/** What tgc reads of a pod (`kubectl get pods -o json`). */
export interface PodInfo {
  readonly metadata: {
    readonly name: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly status?: {
    readonly containerStatuses?: readonly {
      readonly name: string;
      readonly state?: { readonly terminated?: { readonly exitCode: number; readonly signal?: number } };
    }[];
  };
}

/** An instance pod's instance name, `<group>-<completion index>`; undefined for other pods. */
export function podInstance(pod: PodInfo): string | undefined {
  const group = pod.metadata.labels?.['tgc.dev/group'];
  const index = pod.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
  return group && index !== undefined ? `${group}-${index}` : undefined;
}

/** How the pod's `instance` container ended, once it has (the shaping container may still run). */
export function podExit(pod: PodInfo): { code: number | null; signal: string | null } | undefined {
  const t = pod.status?.containerStatuses?.find((c) => c.name === 'instance')?.state?.terminated;
  return t ? containerExit(t.exitCode, t.signal) : undefined;
}
