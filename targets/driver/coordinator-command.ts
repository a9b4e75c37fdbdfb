import type { Plan } from '../../schema/ir.js';
import { coordinatorCounts } from '../../model/instance-layout.js';
import { COORDINATOR_PORT, generatedHeader } from '../target.js';

export interface CoordinatorCommandOptions {
  /** Where the deployment puts the bundle (`/tgc/coordinator.mjs`, `local/coordinator.mjs`…). */
  readonly script: string;
  /** The run id as the deployment spells it (a literal, or `$(TGC_RUN_ID)` for Kubernetes). */
  readonly runId: string;
  /** Its port, as the deployment spells it. @default COORDINATOR_PORT */
  readonly port?: string;
  /** Shaping agents will connect. */
  readonly agents: boolean;
  /**
   * How long the coordinator keeps serving /results after the run. Compose: 10 s, tgc reads
   * them over a published port at once; Kubernetes and Nomad: 30 s, the driver reaches the
   * coordinator through port-forward or the service catalogue, which can lag. Compose writes
   * `${TGC_LINGER:-10s}`: `tgc run` keeps it serving until it takes the run down.
   */
  readonly linger: string;
  /**
   * How long an instance's exit may take to be reported after its connection closes: compose
   * follows docker events (3 s); Kubernetes and Nomad drivers poll (pollInterval, plus 5 s).
   */
  readonly exitGraceMs: number;
  /** Where the deployment puts the plan's `[[events]]` as JSON (`eventsJson`), when it has any. */
  readonly eventsFile?: string;
}

/** The coordinator's command line inside every container deployment: one place for its flags. */
export function coordinatorCommand(plan: Plan, o: CoordinatorCommandOptions): string[] {
  const counts = coordinatorCounts(plan.groups);
  const list = (m: Readonly<Record<string, number>>) =>
    Object.entries(m)
      .map(([g, n]) => `${g}=${n}`)
      .join(',');
  return [
    'node',
    o.script,
    '--host',
    '0.0.0.0',
    '--port',
    o.port ?? String(COORDINATOR_PORT),
    '--instances',
    // Services have no outcome: the coordinator waits for the test instances only.
    String(counts.instances),
    '--groups',
    list(counts.groups),
    ...(Object.keys(counts.services).length > 0 ? ['--services', list(counts.services)] : []),
    '--timeout',
    `${plan.timeoutMs}ms`,
    '--plan',
    plan.name,
    '--run-id',
    o.runId,
    ...(o.agents ? ['--agents'] : []),
    '--linger',
    o.linger,
    // The driver reports how instances' processes end (an exit code is an outcome): wait for it.
    '--exit-grace',
    `${Math.ceil(o.exitGraceMs / 1000)}s`,
    ...(plan.testground ? ['--exit-zero', 'crash'] : []),
    ...(plan.onFailure === 'continue' ? ['--on-failure', 'continue'] : []),
    ...(plan.events && o.eventsFile ? ['--events', o.eventsFile] : []),
  ];
}

/**
 * The plan's schedule as the coordinator reads it (`--events FILE`): an object whose first key
 * carries the generated-file header (JSON has no comments; tgc knows its own files by it).
 */
export function eventsJson(plan: Plan): string | undefined {
  return plan.events ? JSON.stringify({ generated: generatedHeader(plan), events: plan.events }) + '\n' : undefined;
}
