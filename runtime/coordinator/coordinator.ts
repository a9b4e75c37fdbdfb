import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { MAX_FRAME_BYTES, type Results, type Status } from '../../protocol/messages.js';
import { Connections } from './connections.js';
import { serveHttp } from './serve-http.js';
import { OutputsStore } from './outputs-store.js';
import { handleFrame } from './handle-frame.js';
import { RunState } from './run-state.js';
import { SyncService } from './sync-service.js';
import { Schedule, type ProcessExecutor } from './schedule.js';
import type { PlanEvent } from '../../schema/ir.js';

export interface CoordinatorOptions {
  /** Instances expected in the run. */
  readonly instances: number;
  /** Expected instances per group; when given, registrations must name one of these groups. */
  readonly groups?: Readonly<Record<string, number>>;
  /** Service groups (not counted in `instances`): their instances may attach, with no outcome. */
  readonly services?: Readonly<Record<string, number>>;
  /** Run deadline, counted from `listen()`. Instances without an outcome by then time out. */
  readonly timeoutMs?: number;
  /** @default 16 random hex digits */
  readonly runId?: string;
  /** @default "" */
  readonly plan?: string;
  /**
   * Shaping agents will connect (one per instance): network readiness and `configure` go
   * through them. Without agents, `network_wait_ready` answers at once and `configure` fails.
   * @default false
   */
  readonly agents?: boolean;
  /** @default 20000 */
  readonly maxConnections?: number;
  /**
   * Bytes queued towards one client (replies and events; topic messages wait in the topic
   * instead) before it is dropped for not reading. @default 16 MiB
   */
  readonly maxQueuedBytes?: number;
  /** A connection that sends nothing and has not registered is closed after this. @default 120000 */
  readonly idleTimeoutMs?: number;
  /**
   * How long an instance whose connection closed without an outcome waits for its process's exit
   * to be reported (`exited`) before it counts as crashed. Drivers that see exits set it. @default 0
   */
  readonly exitGraceMs?: number;
  /**
   * Exit code 0 without an outcome: success, or a crash (for Testground programs, which exit 0
   * whatever happened). @default "success"
   */
  readonly exitZero?: 'success' | 'crash';
  /**
   * What a failure or a crash does: ends the run at once (`stop`), or lets every other instance
   * run to its end (`continue`, Testground's way). @default "stop"
   */
  readonly onFailure?: 'stop' | 'continue';
  /** The plan's `[[events]]` (schedule.ts). */
  readonly events?: readonly PlanEvent[];
  /** Carries out the schedule's process actions in process; without it, the driver connection does. */
  readonly processExecutor?: ProcessExecutor;
}

/**
 * The sync service of one run: instances register and get a sequence number, signal states,
 * wait on barriers, publish and subscribe, record metrics and report outcomes; it decides the
 * run's outcome (all must succeed) and serves it over HTTP on the same port.
 *
 * The parts: `connections.ts` (the port, framing, coalesced writes), `handle-frame.ts` (one
 * handler per request type), `run-state.ts` (instances, barriers, topics, outcomes),
 * `build-results.ts`, `serve-http.ts`.
 */
export class Coordinator {
  readonly runId: string;
  readonly plan: string;
  private readonly timeoutMs: number | undefined;
  private readonly net: Connections;
  private readonly run: RunState;
  private readonly outputs = new OutputsStore();
  private readonly http = createHttpServer((req, res) => serveHttp(this.run, req, res, this.outputs));
  /** Testground's sync service dialect, for WebSocket upgrades on any path. */
  private readonly sync: SyncService;
  private deadline: NodeJS.Timeout | undefined;
  private readonly schedule: Schedule;
  /** Resolves once, when the run's outcome is decided. */
  readonly ended: Promise<Results>;

  constructor(options: CoordinatorOptions) {
    if (!Number.isInteger(options.instances) || options.instances < 1) {
      throw new RangeError('instances must be a positive integer');
    }
    if (options.groups) {
      const sum = Object.values(options.groups).reduce((a, b) => a + b, 0);
      if (sum !== options.instances)
        throw new RangeError(`the group counts add up to ${sum}, not ${options.instances}`);
    }
    this.runId = options.runId ?? randomBytes(8).toString('hex');
    this.plan = options.plan ?? '';
    this.timeoutMs = options.timeoutMs;
    this.net = new Connections({
      maxConnections: options.maxConnections ?? 20_000,
      maxQueuedBytes: options.maxQueuedBytes ?? 16 * 1024 * 1024,
      idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
      onHttp: (socket) => this.http.emit('connection', socket),
      onFrame: (conn, frame) => handleFrame(this.run, this.net, conn, frame),
      onClose: (conn) => this.run.closed(conn),
    });
    let resolveEnded!: (r: Results) => void;
    this.ended = new Promise((resolve) => (resolveEnded = resolve));
    this.run = new RunState(
      {
        instances: options.instances,
        ...(options.groups && { groups: options.groups }),
        ...(options.services && { services: options.services }),
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
        runId: this.runId,
        plan: this.plan,
        agents: options.agents ?? false,
        exitGraceMs: options.exitGraceMs ?? 0,
        exitZero: options.exitZero ?? 'success',
        onFailure: options.onFailure ?? 'stop',
      },
      this.net,
      resolveEnded,
      () => {
        if (this.deadline) clearTimeout(this.deadline);
        this.run.schedule?.stop();
      },
    );
    // Always there: instances' per-destination changes go through it too (`configure` with `to`).
    this.run.schedule = this.schedule = new Schedule(options.events ?? [], this.run, this.net, options.processExecutor);
    this.http.keepAliveTimeout = 5000;
    this.sync = new SyncService(this.run, {
      maxFrameBytes: MAX_FRAME_BYTES,
      maxQueuedBytes: options.maxQueuedBytes ?? 16 * 1024 * 1024,
    });
    this.http.on('upgrade', (req, socket, head) => this.sync.upgrade(req, socket, head));
  }

  /**
   * Where each instance's connections come from (the local target's namespaces): how a client of
   * the WebSocket dialect, which never says its name, is told apart.
   */
  knowAddresses(byIp: ReadonlyMap<string, string>): void {
    for (const [ip, name] of byIp) this.run.addresses.know(ip, name, true);
  }

  /** Starts serving; the run's clock (and deadline) starts now. Resolves to the bound port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = this.net.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, backlog: 8192 }, () => {
        server.off('error', reject);
        this.run.startedAt = Date.now();
        this.schedule.start();
        if (this.timeoutMs !== undefined) {
          this.deadline = setTimeout(() => this.run.onDeadline(), this.timeoutMs);
          this.deadline.unref();
        }
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops serving and drops every connection. */
  close(): Promise<void> {
    if (this.deadline) clearTimeout(this.deadline);
    this.run.schedule?.stop();
    this.net.destroyAll();
    this.sync.closeAll();
    this.http.closeAllConnections();
    return new Promise((resolve) => this.net.server.close(() => resolve()));
  }

  get results(): Results | undefined {
    return this.run.result;
  }

  /**
   * For drivers that watch the processes: an instance's process ended (exit `code`, or killed by
   * `signal`); `logTail` is the end of its output, for the reason. See RunState.exited.
   */
  exited(name: string, group: string, code: number | null, signal: string | null, logTail = ''): void {
    this.run.exited(name, group, code, signal, logTail);
  }

  /**
   * For drivers that watch the processes: an instance that died before it registered (or
   * without the coordinator noticing) is recorded as crashed, which decides the run.
   */
  crashed(name: string, group: string, reason: string): void {
    if (this.run.result) return;
    const known = this.run.byName.get(name);
    if (known) {
      if (!known.outcome) this.run.setOutcome(known, 'crash', reason);
      return;
    }
    this.run.setOutcome(this.run.addInstance(name, group, null, undefined), 'crash', reason);
  }

  /**
   * For drivers that read an instance's outcome from its output (sdk-go's stdout events, the only
   * report of a plan without an init context): taken unless the instance already has one.
   */
  reported(name: string, group: string, outcome: 'success' | 'failure' | 'crash', reason: string | undefined): void {
    if (this.run.result) return;
    const inst = this.run.byName.get(name) ?? this.run.addInstance(name, group, null, undefined);
    if (!inst.outcome) this.run.setOutcome(inst, outcome, reason);
  }

  /** Ends the run now as a failure (the driver was interrupted, say); the rest are `stopped`. */
  abort(reason: string): void {
    this.run.endRun('failure', reason, 'stopped');
  }

  /** Live progress, as `/status` serves it. */
  status(): Status {
    return this.run.status();
  }
}
