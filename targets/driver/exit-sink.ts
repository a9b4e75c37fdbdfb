import { constants } from 'node:os';
import type { Plan, ProcessAction } from '../../schema/ir.js';
import { instanceLayout } from '../../model/instance-layout.js';
import { ProtocolClient } from '../../protocol/client.js';
import { pollInterval } from './poll-interval.js';

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n as number, name]));

/**
 * How a container ended, from its exit code and, where the orchestrator says it, the signal's
 * number; without that, an exit code of 128 + n means killed by signal n.
 */
export function containerExit(code: number, signal?: number): { code: number | null; signal: string | null } {
  const name = (signal && SIGNAL_NAMES.get(signal)) || SIGNAL_NAMES.get(code - 128);
  return name ? { code: null, signal: name } : { code, signal: null };
}

/** Each instance of a plan: its group, and for a service instance whether its exit fails the run. */
export type InstanceRoles = ReadonlyMap<string, { readonly group: string; readonly service?: 'fail' | 'ignore' }>;

export function instanceRoles(plan: Plan): InstanceRoles {
  return new Map(
    instanceLayout(plan).map((p) => {
      const g = plan.groups.find((x) => x.id === p.group)!;
      return [p.name, { group: p.group, ...(g.role === 'service' && { service: g.onExit ?? 'fail' }) }];
    }),
  );
}

export interface ExitSink {
  /** Whether this instance's end was already reported (each is reported once). */
  has(instance: string): boolean;
  /**
   * The schedule is about to end this instance (kill, stop, restart): for a service, that exit is
   * no failure (and its next end, after a restart, is reported again).
   */
  expect(instance: string): void;
  /** Reports how an instance ended; `log` (its tail) is fetched only when the report is sent. */
  report(instance: string, exit: { code: number | null; signal: string | null }, log: () => Promise<string>): void;
  /** Ends the run now as a failure, for a reason the orchestrator gave (a node lost, say). */
  abort(reason: string): Promise<void>;
  close(): void;
}

/**
 * A `driver` connection to the coordinator that tells it how each instance ended (an exit code
 * is an outcome, docs/protocol.md): `exited` for test instances, `abort` for a service that
 * stops before the run is decided (unless its group says `on_exit = "ignore"`). Every target's
 * driver feeds it from what its orchestrator says: docker events, pod statuses, allocations.
 */
export async function connectExitSink(
  coordinator: { readonly host: string; readonly port: number },
  roles: InstanceRoles,
  /** Carries out the schedule's process actions (docs/protocol.md, `process`), when the target can. */
  onProcess?: (action: ProcessAction, instances: readonly string[]) => Promise<void>,
): Promise<ExitSink> {
  const seen = new Set<string>();
  const expected = new Set<string>();
  // Once the run is decided (the coordinator's `stop`), exits are news to no one: the instances
  // end because it did. Nothing is reported then, and no log is fetched for it.
  let decided = false;
  const none: ExitSink = {
    has: () => true,
    expect: () => undefined,
    report: () => undefined,
    abort: async () => undefined,
    close: () => undefined,
  };
  const socket = await ProtocolClient.socket(coordinator.host, coordinator.port, 30_000).catch(() => undefined);
  if (!socket) return none;
  const client = new ProtocolClient(socket, {
    onEvent: (frame) => {
      if (frame.event === 'stop') decided = true;
      if (frame.event !== 'process') return;
      const action = frame.action as ProcessAction;
      const done = (error?: string) =>
        client
          .request('process_done', { ref: frame.ref, ...(error !== undefined && { error }) })
          .catch(() => undefined);
      if (!onProcess) return void done(`this target cannot ${action} processes`);
      onProcess(action, frame.instances as string[]).then(
        () => done(),
        (err: Error) => done(err.message),
      );
    },
    onClose: () => undefined,
  });
  // A run already decided (they can be quick) has no use for exits: nothing to report then.
  const registered = await client.request('register', { role: 'driver' }).then(
    () => true,
    () => false,
  );
  if (!registered) {
    client.destroy();
    return none;
  }
  return {
    has: (instance) => decided || seen.has(instance) || !roles.has(instance),
    expect: (instance) => void expected.add(instance),
    report(instance, { code, signal }, log) {
      const known = roles.get(instance);
      if (decided || !known || seen.has(instance)) return;
      // A service the schedule stopped has not failed.
      if (expected.delete(instance) && known.service) return;
      seen.add(instance);
      if (known.service === 'ignore') return;
      void log()
        .catch(() => '')
        .then((text) => {
          const tail = text.slice(-1500);
          return known.service
            ? // A service that stops before the run is decided fails it.
              client.request('abort', {
                reason:
                  `service ${instance} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}` +
                  `\n${tail.trim()}`,
              })
            : client.request('exited', { instance, group: known.group, code, signal, log: tail });
        })
        .catch(() => undefined);
    },
    abort: async (reason) => {
      await client.request('abort', { reason }).catch(() => undefined);
    },
    close: () => client.destroy(),
  };
}

/** An instance that has ended, as a poll of the orchestrator finds it. */
export interface EndedInstance {
  readonly instance: string;
  readonly exit: { readonly code: number | null; readonly signal: string | null };
  readonly log: () => Promise<string>;
}

/**
 * Asks the orchestrator, every `everyMs`, which instances have ended, and reports each new one
 * (for orchestrators without an event stream tgc can follow cheaply: pods, allocations).
 */
export function pollExits(
  sink: ExitSink,
  poll: () => Promise<readonly EndedInstance[]>,
  everyMs: number,
): { close(): void } {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const ended = await poll().catch(() => []);
    if (closed) return;
    for (const e of ended) if (!sink.has(e.instance)) sink.report(e.instance, e.exit, e.log);
    timer = setTimeout(() => void tick(), everyMs);
  };
  void tick();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      sink.close();
    },
  };
}

/**
 * The Kubernetes and Nomad drivers' exit reporting: a driver connection to the coordinator at
 * `address`, fed by `poll` every `pollInterval` for the plan's size.
 */
export async function watchExits(
  plan: Plan,
  address: { readonly host: string; readonly port: number },
  poll: () => Promise<readonly EndedInstance[]>,
): Promise<{ close(): void }> {
  return pollExits(await connectExitSink(address, instanceRoles(plan)), poll, pollInterval(plan.totalInstances));
}
