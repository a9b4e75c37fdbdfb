import { NETWORK_INITIALIZED_STATE } from '../../protocol/messages.js';
import type { EventAction, LinkShape, PlanEvent, ProcessAction } from '../../schema/ir.js';
import { groupByShape, mergeShapes, type DestinationShape } from '../../model/egress-plan.js';
import type { Connections } from './connections.js';
import type { RunState } from './run-state.js';
import type { Conn, Instance } from './types.js';

/** Carries out process actions: in process (the local target), or through the driver's connection. */
export type ProcessExecutor = (action: ProcessAction, instances: readonly string[]) => Promise<void>;

/**
 * The plan's `[[events]]`, owned by the coordinator (it knows the states and the time): each
 * event waits for its trigger — `at` after every instance's network is ready, or `after` a state
 * reaching a count — then its delay, then is applied. Network actions become per-destination
 * shapes sent to the affected instances' shaping agents (`links`); process actions go to the
 * executor. Each applied event signals `event:<name>` and is kept for results.json; one that
 * cannot be applied fails the run (the test would not test what it says).
 */
export class Schedule {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Link events, accumulated: source → destination → shape over the plan's. */
  private readonly linkOver = new Map<string, Map<string, LinkShape>>();
  /** Testground rules in force (network.Config `rules`): source → destination → shape, under the events'. */
  private readonly rules = new Map<string, ReadonlyMap<string, LinkShape>>();
  /** Partitions in force: source → destinations it cannot reach. */
  private readonly blocked = new Map<string, Set<string>>();
  private readonly driverWaits = new Map<number, (error?: string) => void>();
  private driver: Conn | undefined;
  private nextRef = 1;

  constructor(
    private readonly events: readonly PlanEvent[],
    private readonly run: RunState,
    private readonly net: Connections,
    private readonly executor: ProcessExecutor | undefined,
  ) {}

  /** Arms every trigger; called once the coordinator listens. */
  start(): void {
    const services = Object.values(this.run.o.services ?? {}).reduce((a, b) => a + b, 0);
    const everyone = this.run.o.instances + (this.run.o.agents ? services : 0);
    for (const e of this.events) {
      if ('atMs' in e.trigger) {
        const atMs = e.trigger.atMs;
        this.when(NETWORK_INITIALIZED_STATE, everyone, (t) => this.later(atMs + e.delayMs, e, t));
      } else {
        this.when(e.trigger.state, e.trigger.count, (t) => this.later(e.delayMs, e, t));
      }
    }
  }

  /**
   * An instance's own change of its links to some destinations (`network_configure` with `to`):
   * a layer over the plan's, as a link event's; resolves once its agent applied it.
   */
  linkTo(from: string, to: readonly string[], shape: LinkShape): Promise<void> {
    return this.act({ kind: 'link', from: [from], to, shape });
  }

  /**
   * A Testground instance's per-subnet rules, as the destinations they cover: they replace its
   * earlier rules (a Config is whole); resolves once its agent applied them.
   */
  rulesFor(from: string, table: ReadonlyMap<string, LinkShape>): Promise<void> {
    if (table.size === 0 && !this.rules.has(from)) return Promise.resolve();
    if (table.size === 0) this.rules.delete(from);
    else this.rules.set(from, table);
    return this.reshape([from]);
  }

  /** The run ended: nothing more is applied. */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.driverWaits.values()) w('the run ended');
    this.driverWaits.clear();
  }

  /** The driver's connection, which carries process actions when no executor runs in process. */
  driverConnected(conn: Conn): void {
    this.driver = conn;
  }

  /** The driver did a process action (`process_done`). */
  processDone(ref: number, error: string | undefined): boolean {
    const w = this.driverWaits.get(ref);
    if (!w) return false;
    this.driverWaits.delete(ref);
    w(error);
    return true;
  }

  private when(state: string, count: number, then: (triggeredMs: number) => void): void {
    const entry = this.run.state(state);
    if (entry.count >= count) return then(this.run.elapsed());
    const list = entry.waiters.get(count) ?? [];
    list.push({ notify: (_n, error) => error === undefined && then(this.run.elapsed()) });
    entry.waiters.set(count, list);
  }

  private later(ms: number, e: PlanEvent, triggeredMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.apply(e, triggeredMs);
    }, ms);
    this.timers.add(timer);
  }

  private async apply(e: PlanEvent, triggeredMs: number): Promise<void> {
    if (this.run.result) return;
    const t = this.run.elapsed();
    let error: string | undefined;
    try {
      await this.act(e.action);
    } catch (err) {
      error = (err as Error).message;
    }
    if (this.run.result) return;
    const result = error === undefined ? 'applied' : 'failed';
    this.run.timeline.applied.push({
      name: e.name,
      action: e.action.kind,
      trigger: 'atMs' in e.trigger ? { at_ms: e.trigger.atMs } : { state: e.trigger.state, count: e.trigger.count },
      delay_ms: e.delayMs,
      triggered_ms: triggeredMs,
      t_ms: t,
      done_ms: this.run.elapsed(),
      instances: instancesOf(e.action),
      result,
      error: error ?? null,
    });
    this.run.timeline.add({ t_ms: t, event: 'fault', name: e.name, action: e.action.kind, result });
    if (error !== undefined)
      return this.run.endRun('failure', `event ${e.name} (${e.action.kind}) could not be applied: ${error}`, 'stopped');
    this.run.signal(`event:${e.name}`);
  }

  private async act(a: EventAction): Promise<void> {
    switch (a.kind) {
      case 'partition': {
        a.sides.forEach((side, i) => {
          const others = a.sides.filter((_, j) => j !== i).flat();
          for (const from of side) {
            const set = this.blocked.get(from) ?? new Set();
            for (const to of others) set.add(to);
            this.blocked.set(from, set);
          }
        });
        return this.reshape(a.sides.flat());
      }
      case 'heal': {
        const affected = [...this.blocked.keys()];
        this.blocked.clear();
        return this.reshape(affected);
      }
      case 'link': {
        for (const from of a.from) {
          const table = this.linkOver.get(from) ?? new Map<string, LinkShape>();
          for (const to of a.to) table.set(to, mergeShapes([table.get(to) ?? {}, a.shape]));
          this.linkOver.set(from, table);
        }
        return this.reshape(a.from);
      }
      default:
        return this.process(a.kind, a.instances);
    }
  }

  /** What each source instance's traffic to particular destinations gets now, grouped by shape. */
  private destinations(from: string): DestinationShape[] {
    const table = new Map<string, LinkShape>(this.rules.get(from) ?? []);
    for (const [to, shape] of this.linkOver.get(from) ?? []) table.set(to, mergeShapes([table.get(to) ?? {}, shape]));
    for (const to of this.blocked.get(from) ?? []) table.set(to, mergeShapes([table.get(to) ?? {}, { blocked: true }]));
    return groupByShape(table).map(({ shape, items }) => ({ to: items, shape }));
  }

  /** Sends the new destination table of every affected source to its agent; resolves when all applied. */
  private async reshape(sources: readonly string[]): Promise<void> {
    await Promise.all(
      [...new Set(sources)].map(
        (name) =>
          new Promise<void>((resolve, reject) => {
            const agent = this.run.agentsByName.get(name);
            if (!agent) return reject(new Error(`no shaping agent is connected for ${name} (is shaping off?)`));
            const by = this.run.byName.get(name) ?? ({ name } as Instance);
            const ref = this.run.nextRef++;
            const links = this.destinations(name);
            this.run.pendingConfigures.set(ref, {
              id: undefined,
              by,
              agent,
              callbackState: undefined,
              shape: { links },
              silent: true,
              done: (error) => (error === undefined ? resolve() : reject(new Error(`${name}: ${error}`))),
            });
            this.net.send(agent, JSON.stringify({ event: 'links', ref, instance: name, links }) + '\n');
          }),
      ),
    );
  }

  private async process(action: ProcessAction, instances: readonly string[]): Promise<void> {
    if (this.executor) return this.executor(action, instances);
    // The driver connects once it has found the coordinator: an early event waits for it a little.
    for (let waited = 0; (!this.driver || this.driver.socket.destroyed) && waited < 10_000; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    const driver = this.driver;
    if (!driver || driver.socket.destroyed)
      throw new Error(`nothing here can ${action} processes: no driver is connected`);
    const ref = this.nextRef++;
    return new Promise((resolve, reject) => {
      this.driverWaits.set(ref, (error) => (error === undefined ? resolve() : reject(new Error(error))));
      this.net.send(driver, JSON.stringify({ event: 'process', ref, action, instances }) + '\n');
    });
  }
}

function instancesOf(a: EventAction): string[] {
  if (a.kind === 'partition') return a.sides.flat();
  if (a.kind === 'heal') return [];
  if (a.kind === 'link') return [...new Set([...a.from, ...a.to])];
  return [...a.instances];
}
