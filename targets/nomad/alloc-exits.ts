import { containerExit } from '../driver/exit-sink.js';

/** What tgc reads of an allocation (`nomad job allocs -json`). */
export interface AllocInfo {
  readonly ID: string;
  readonly Name: string;
  readonly TaskGroup: string;
  readonly TaskStates?: Record<
    string,
    {
      readonly State?: string;
      readonly Events?: readonly { readonly Type: string; readonly ExitCode?: number; readonly Signal?: number }[];
    }
  >;
}

/** An instance allocation's instance name, `<group>-<index>` from `<job>.<group>[<index>]`. */
export function allocInstance(a: AllocInfo): string | undefined {
  const index = /\[([0-9]+)\]$/.exec(a.Name)?.[1];
  return a.TaskGroup !== 'coordinator' && index !== undefined ? `${a.TaskGroup}-${index}` : undefined;
}

/** How the allocation's `instance` task ended, once it has (its last `Terminated` event). */
export function allocExit(a: AllocInfo): { code: number | null; signal: string | null } | undefined {
  const task = a.TaskStates?.instance;
  const terminated = task?.Events?.filter((e) => e.Type === 'Terminated').pop();
  return task?.State === 'dead' && terminated ? containerExit(terminated.ExitCode ?? 0, terminated.Signal) : undefined;
}
