import type { Results, Status } from '../../protocol/messages.js';
import type { Connections } from './connections.js';
import type { Instance, RunOptions, StateEntry } from './types.js';

/** What `/status` is made of (a RunState). */
export interface StatusSource {
  readonly o: RunOptions;
  readonly instances: readonly Instance[];
  readonly states: ReadonlyMap<string, StateEntry>;
  readonly readyNames: ReadonlySet<string>;
  readonly startedAt: number;
  readonly result: Results | undefined;
}

/** Live progress of a run, as `/status` serves it. */
export function runStatus(run: StatusSource, net: Connections): Status {
  const outcomes: Record<string, number> = {};
  const groups: Status['groups'] = {};
  for (const [g, n] of Object.entries(run.o.groups ?? {})) groups[g] = { expected: n, registered: 0, outcomes: {} };
  for (const i of run.instances) {
    const g = (groups[i.group] ??= { expected: null, registered: 0, outcomes: {} });
    g.registered++;
    if (i.outcome) {
      outcomes[i.outcome] = (outcomes[i.outcome] ?? 0) + 1;
      g.outcomes[i.outcome] = (g.outcomes[i.outcome] ?? 0) + 1;
    }
  }
  const states: Record<string, number> = {};
  for (const name of [...run.states.keys()].sort()) states[name] = run.states.get(name)!.count;
  return {
    run_id: run.o.runId,
    plan: run.o.plan,
    state: run.result ? 'ended' : 'running',
    outcome: run.result?.outcome ?? null,
    elapsed_ms: run.startedAt ? Date.now() - run.startedAt : 0,
    instances: run.o.instances,
    registered: run.instances.length,
    network_ready: run.readyNames.size,
    outcomes,
    states,
    groups,
    connections: net.live.size,
    ...net.sent(),
  };
}
