import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { addSample, summarize, type Aggregate } from './aggregate.js';
import { LineReader } from './line-reader.js';
import { metricsText } from './metrics-text.js';
import {
  MAX_FRAME_BYTES,
  NETWORK_READY_STATE,
  type ErrorCode,
  type Identity,
  type Outcome,
} from '../../protocol/messages.js';

export interface CoordinatorOptions {
  /** Instances expected in the run. */
  readonly instances: number;
  /** Expected instances per group; when given, registrations must name one of these groups. */
  readonly groups?: Readonly<Record<string, number>>;
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
}

export interface InstanceResult {
  readonly name: string;
  readonly group: string;
  readonly seq: number;
  readonly group_seq: number;
  readonly data_ip: string | null;
  readonly outcome: Outcome;
  readonly reason: string | null;
  readonly registered_ms: number;
  readonly ended_ms: number | null;
  readonly metrics: Record<string, Aggregate & { mean: number }>;
  readonly messages: readonly string[];
}

export interface GroupResult {
  readonly expected: number | null;
  readonly registered: number;
  readonly outcomes: Record<string, number>;
  readonly metrics: Record<string, Aggregate & { mean: number }>;
}

export interface Results {
  readonly run_id: string;
  readonly plan: string;
  readonly outcome: 'success' | 'failure';
  readonly reason: string | null;
  readonly duration_ms: number;
  readonly expected_instances: number;
  readonly registered_instances: number;
  readonly groups: Record<string, GroupResult>;
  readonly instances: readonly InstanceResult[];
}

interface StateEntry {
  count: number;
  /** Waiters by the count that releases them: each signal releases one key, O(1). */
  readonly waiters: Map<number, Waiter[]>;
}
interface Waiter {
  readonly conn: Conn;
  readonly id: number | undefined;
}
interface Topic {
  /** Each message already serialized (and encoded) as its event line: a fan-out does it once. */
  readonly lines: Buffer[];
  readonly subscribers: Set<Conn>;
}
interface Instance {
  readonly name: string;
  readonly group: string;
  readonly seq: number;
  readonly groupSeq: number;
  readonly dataIp: string | null;
  readonly registeredMs: number;
  conn: Conn | undefined;
  agent: Conn | undefined;
  outcome?: Outcome;
  reason?: string;
  endedMs?: number;
  readonly metrics: Map<string, Aggregate>;
  readonly messages: string[];
  networkReady: boolean;
  readonly readyWaiters: Waiter[];
}
interface Conn {
  readonly socket: Socket;
  readonly reader: LineReader;
  role?: 'instance' | 'agent';
  instance?: Instance;
  /** Agents: the instance name they shape. */
  shapes?: string;
  /** Next message seq to deliver, per subscribed topic. */
  readonly cursors: Map<string, number>;
  /** Topic delivery is paused until the socket drains. */
  drainPending: boolean;
  closed: boolean;
}
interface PendingConfigure {
  readonly from: Conn;
  readonly id: number | undefined;
  readonly callbackState: string | undefined;
  readonly agent: Conn;
}

const MAX_MESSAGES_PER_INSTANCE = 1000;
/** Topic messages are written to a subscriber while less than this is queued to it. */
const DELIVERY_HIGH_WATER = 1024 * 1024;
const MAX_MESSAGE_CHARS = 4096;
const NAME_LIMIT = 256;

/**
 * The sync service of one run: instances register and get a sequence number, signal states,
 * wait on barriers, publish and subscribe, record metrics and report outcomes; it decides the
 * run's outcome (all must succeed) and serves it over HTTP on the same port.
 */
export class Coordinator {
  readonly runId: string;
  readonly plan: string;
  private readonly options: Required<Omit<CoordinatorOptions, 'groups' | 'timeoutMs' | 'runId' | 'plan'>> &
    CoordinatorOptions;
  private readonly server: Server;
  private readonly http = createHttpServer((req, res) => this.serveHttp(req, res));
  private readonly conns = new Set<Conn>();
  /** Every accepted socket, whatever it turned out to speak, so close() can end them all. */
  private readonly sockets = new Set<Socket>();
  private readonly instances: Instance[] = [];
  private readonly byName = new Map<string, Instance>();
  private readonly agentsByName = new Map<string, Conn>();
  private readonly groupCounts = new Map<string, number>();
  private readonly groupMetrics = new Map<string, Map<string, Aggregate>>();
  private readonly states = new Map<string, StateEntry>();
  private readonly topics = new Map<string, Topic>();
  private readonly pendingConfigures = new Map<number, PendingConfigure>();
  private nextRef = 1;
  private startedAt = 0;
  private deadline: NodeJS.Timeout | undefined;
  private result: Results | undefined;
  private resolveEnded!: (r: Results) => void;
  /** Resolves once, when the run's outcome is decided. */
  readonly ended: Promise<Results> = new Promise((resolve) => (this.resolveEnded = resolve));

  constructor(options: CoordinatorOptions) {
    if (!Number.isInteger(options.instances) || options.instances < 1)
      throw new RangeError('instances must be a positive integer');
    if (options.groups) {
      const sum = Object.values(options.groups).reduce((a, b) => a + b, 0);
      if (sum !== options.instances)
        throw new RangeError(`the group counts add up to ${sum}, not ${options.instances}`);
    }
    this.options = {
      agents: false,
      maxConnections: 20_000,
      maxQueuedBytes: 16 * 1024 * 1024,
      idleTimeoutMs: 120_000,
      ...options,
    };
    this.runId = options.runId ?? randomBytes(8).toString('hex');
    this.plan = options.plan ?? '';
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.maxConnections = this.options.maxConnections;
    this.http.keepAliveTimeout = 5000;
  }

  /** Starts serving; the run's clock (and deadline) starts now. Resolves to the bound port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog: 8192 }, () => {
        this.server.off('error', reject);
        this.startedAt = Date.now();
        if (this.options.timeoutMs !== undefined) {
          this.deadline = setTimeout(() => this.onDeadline(), this.options.timeoutMs);
          this.deadline.unref();
        }
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops serving and drops every connection. */
  close(): Promise<void> {
    if (this.deadline) clearTimeout(this.deadline);
    for (const socket of this.sockets) socket.destroy();
    this.http.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  get results(): Results | undefined {
    return this.result;
  }

  // ── Connections ─────────────────────────────────────────────────────────────────────────

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setTimeout(this.options.idleTimeoutMs);
    socket.on('timeout', () => {
      if (!conn.role) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    const conn: Conn = {
      socket,
      reader: new LineReader(MAX_FRAME_BYTES),
      cursors: new Map(),
      drainPending: false,
      closed: false,
    };
    // One port, two protocols: a first byte that starts an HTTP method goes to the HTTP server.
    socket.once('data', (first: Buffer) => {
      const c = first[0]!;
      if (c >= 0x41 && c <= 0x5a) {
        socket.setTimeout(0);
        socket.removeAllListeners('timeout');
        socket.pause();
        socket.unshift(first);
        this.http.emit('connection', socket);
        socket.resume();
        return;
      }
      this.conns.add(conn);
      socket.on('close', () => this.onClose(conn));
      this.onData(conn, first);
      socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    });
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn.closed) return;
    const lines = conn.reader.push(chunk);
    if (lines === 'tooLong') {
      this.sendError(
        conn,
        undefined,
        'frame_too_large',
        `a frame is limited to ${MAX_FRAME_BYTES} bytes; closing the connection`,
      );
      conn.socket.end();
      conn.closed = true;
      return;
    }
    for (const line of lines) {
      if (conn.closed) return;
      if (line.trim() === '') continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        this.sendError(conn, undefined, 'bad_json', 'a frame must be one JSON object on one line');
        continue;
      }
      this.handle(conn, msg);
    }
  }

  private onClose(conn: Conn): void {
    conn.closed = true;
    this.conns.delete(conn);
    for (const topic of conn.cursors.keys()) this.topics.get(topic)?.subscribers.delete(conn);
    if (conn.role === 'agent' && conn.shapes !== undefined) {
      if (this.agentsByName.get(conn.shapes) === conn) this.agentsByName.delete(conn.shapes);
      for (const [ref, p] of this.pendingConfigures) {
        if (p.agent === conn) {
          this.pendingConfigures.delete(ref);
          this.sendError(p.from, p.id, 'configure_failed', `the shaping agent of ${conn.shapes} disconnected`);
        }
      }
    }
    const inst = conn.instance;
    if (inst && inst.conn === conn) {
      inst.conn = undefined;
      if (!inst.outcome && !this.result) this.setOutcome(inst, 'crash', 'connection lost without an outcome');
    }
  }

  private send(conn: Conn, line: string | Buffer): void {
    if (conn.closed) return;
    if (conn.socket.writableLength > this.options.maxQueuedBytes) {
      // A client that does not read is dropped rather than buffered without bound.
      conn.closed = true;
      conn.socket.destroy();
      return;
    }
    this.write(conn.socket, line);
  }

  /**
   * The first write to a socket in an event-loop turn goes out at once; from the second on,
   * the socket is corked until every ready input has been handled, then gets one writev. A
   * burst (everyone publishing at once) costs one system call per client, not per message,
   * and a lone reply (a barrier release) is not delayed.
   */
  private write(socket: Socket, data: string | Buffer): void {
    if (!this.touched.has(socket)) {
      this.touched.add(socket);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    } else if (!this.corked.has(socket)) {
      socket.cork();
      this.corked.add(socket);
    }
    socket.write(data);
  }

  private readonly touched = new Set<Socket>();
  private readonly corked = new Set<Socket>();
  private flushScheduled = false;
  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const socket of this.corked) socket.uncork();
    this.corked.clear();
    this.touched.clear();
  };

  private reply(conn: Conn, id: number | undefined, body: Record<string, unknown>): void {
    if (id === undefined) return;
    this.send(conn, JSON.stringify({ re: id, ...body }) + '\n');
  }

  /** The reply of a released barrier or a signal, the hot path of big runs: built by hand. */
  private replyCount(conn: Conn, id: number | undefined, count: number): void {
    if (id !== undefined) this.send(conn, `{"re":${id},"count":${count}}\n`);
  }

  private sendError(conn: Conn, id: number | undefined, code: ErrorCode, message: string): void {
    const error = { code, message };
    this.send(conn, JSON.stringify(id === undefined ? { event: 'error', error } : { re: id, error }) + '\n');
  }

  // ── Requests ────────────────────────────────────────────────────────────────────────────

  private handle(conn: Conn, raw: unknown): void {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.sendError(conn, undefined, 'bad_request', 'a frame must be a JSON object');
      return;
    }
    const msg = raw as Record<string, unknown>;
    const id = Number.isSafeInteger(msg.id) ? (msg.id as number) : undefined;
    if (msg.id !== undefined && id === undefined)
      return this.sendError(conn, undefined, 'bad_request', '"id" must be an integer');
    const type = msg.type;
    const str = (k: string, max = NAME_LIMIT): string | undefined =>
      typeof msg[k] === 'string' && (msg[k] as string).length > 0 && (msg[k] as string).length <= max
        ? (msg[k] as string)
        : undefined;
    const bad = (what: string) => this.sendError(conn, id, 'bad_request', what);

    if (type === 'ping') return this.reply(conn, id, {});
    if (type === 'register') return this.register(conn, id, msg);
    if (typeof type !== 'string' || !KNOWN_TYPES.has(type))
      return this.sendError(conn, id, 'unknown_type', `unknown message type ${JSON.stringify(type)}`);
    if (!conn.role) return this.sendError(conn, id, 'not_registered', `register before sending "${type}"`);
    if (this.result && type !== 'configured')
      return this.sendError(conn, id, 'run_ended', `the run has ended (${this.result.outcome})`);

    switch (type) {
      case 'signal': {
        const state = str('state');
        if (!state) return bad('"state" must be a non-empty string');
        return this.replyCount(conn, id, this.signal(state));
      }
      case 'barrier': {
        const state = str('state');
        const target = msg.target;
        if (!state || !Number.isSafeInteger(target))
          return bad('"state" must be a non-empty string and "target" an integer');
        const entry = this.state(state);
        if (entry.count >= (target as number)) return this.replyCount(conn, id, entry.count);
        const list = entry.waiters.get(target as number) ?? [];
        list.push({ conn, id });
        entry.waiters.set(target as number, list);
        return;
      }
      case 'publish': {
        const topic = str('topic');
        if (!topic || !('payload' in msg)) return bad('"topic" must be a non-empty string and "payload" present');
        return this.reply(conn, id, { seq: this.publish(topic, msg.payload) });
      }
      case 'subscribe': {
        const topic = str('topic');
        const from = msg.from === undefined ? 1 : msg.from;
        if (!topic || !Number.isSafeInteger(from) || (from as number) < 1)
          return bad('"topic" must be a non-empty string and "from" an integer ≥ 1');
        const t = this.topic(topic);
        this.reply(conn, id, { seq: t.lines.length });
        conn.cursors.set(topic, Math.min(from as number, conn.cursors.get(topic) ?? Infinity));
        t.subscribers.add(conn);
        this.deliver(conn, topic, t);
        return;
      }
      case 'unsubscribe': {
        const topic = str('topic');
        if (!topic) return bad('"topic" must be a non-empty string');
        conn.cursors.delete(topic);
        this.topics.get(topic)?.subscribers.delete(conn);
        return this.reply(conn, id, {});
      }
      case 'record': {
        const name = str('name');
        const value = msg.value;
        const unit = msg.unit === undefined ? '' : msg.unit;
        if (!name || typeof value !== 'number' || !Number.isFinite(value) || typeof unit !== 'string')
          return bad('"name" must be a string, "value" a finite number, "unit" a string');
        const inst = conn.instance;
        if (!inst) return bad('only instances record metrics');
        addSample(inst.metrics, name, value, unit);
        let group = this.groupMetrics.get(inst.group);
        if (!group) this.groupMetrics.set(inst.group, (group = new Map()));
        addSample(group, name, value, unit);
        return this.reply(conn, id, {});
      }
      case 'message': {
        if (typeof msg.text !== 'string') return bad('"text" must be a string');
        const inst = conn.instance;
        if (inst && inst.messages.length < MAX_MESSAGES_PER_INSTANCE)
          inst.messages.push(msg.text.slice(0, MAX_MESSAGE_CHARS));
        return this.reply(conn, id, {});
      }
      case 'outcome': {
        const inst = conn.instance;
        if (!inst) return bad('only instances report outcomes');
        if (msg.status !== 'success' && msg.status !== 'failure') return bad('"status" must be "success" or "failure"');
        if (inst.outcome)
          return this.sendError(conn, id, 'outcome_reported', `the outcome of ${inst.name} is already ${inst.outcome}`);
        const reason =
          typeof msg.reason === 'string'
            ? msg.reason.slice(0, MAX_MESSAGE_CHARS)
            : msg.status === 'failure'
              ? 'failed'
              : undefined;
        this.reply(conn, id, {});
        this.setOutcome(inst, msg.status, reason);
        return;
      }
      case 'network_wait_ready': {
        const inst = conn.instance;
        if (!inst) return bad('only instances wait for their network');
        if (!this.options.agents || inst.networkReady) return this.reply(conn, id, {});
        inst.readyWaiters.push({ conn, id });
        return;
      }
      case 'network_ready': {
        if (conn.role !== 'agent' || conn.shapes === undefined)
          return bad('only shaping agents report network readiness');
        const inst = this.byName.get(conn.shapes);
        this.reply(conn, id, {});
        this.markReady(conn.shapes, inst);
        return;
      }
      case 'network_failed': {
        if (conn.role !== 'agent' || conn.shapes === undefined)
          return bad('only shaping agents report network failures');
        const reason = typeof msg.reason === 'string' ? msg.reason.slice(0, MAX_MESSAGE_CHARS) : 'no reason given';
        this.reply(conn, id, {});
        this.endRun('failure', `the network of ${conn.shapes} could not be shaped: ${reason}`, 'stopped');
        return;
      }
      case 'network_configure': {
        const inst = conn.instance;
        const shape = msg.shape;
        const callback = msg.callback_state === undefined ? undefined : str('callback_state');
        if (!inst) return bad('only instances configure their network');
        if (shape === null || typeof shape !== 'object' || Array.isArray(shape))
          return bad('"shape" must be an object');
        if (msg.callback_state !== undefined && !callback) return bad('"callback_state" must be a non-empty string');
        const agent = this.agentsByName.get(inst.name);
        if (!agent) return this.sendError(conn, id, 'no_agent', `no shaping agent is connected for ${inst.name}`);
        const ref = this.nextRef++;
        this.pendingConfigures.set(ref, { from: conn, id, callbackState: callback, agent });
        this.send(agent, JSON.stringify({ event: 'configure', ref, instance: inst.name, shape }) + '\n');
        return;
      }
      case 'configured': {
        const ref = msg.ref;
        const pending = typeof ref === 'number' ? this.pendingConfigures.get(ref) : undefined;
        if (!pending || pending.agent !== conn) return bad('"ref" names no configure request sent to this agent');
        this.pendingConfigures.delete(ref as number);
        this.reply(conn, id, {});
        if (typeof msg.error === 'string')
          return this.sendError(pending.from, pending.id, 'configure_failed', msg.error);
        const count =
          pending.callbackState !== undefined && !this.result ? this.signal(pending.callbackState) : undefined;
        return this.reply(pending.from, pending.id, count === undefined ? {} : { count });
      }
    }
  }

  private register(conn: Conn, id: number | undefined, msg: Record<string, unknown>): void {
    if (conn.role) return this.sendError(conn, id, 'already_registered', 'this connection is already registered');
    if (this.result) return this.sendError(conn, id, 'run_ended', `the run has ended (${this.result.outcome})`);
    const role = msg.role ?? 'instance';
    const name =
      typeof msg.instance === 'string' && msg.instance.length > 0 && msg.instance.length <= NAME_LIMIT
        ? msg.instance
        : undefined;
    if (msg.instance !== undefined && name === undefined)
      return this.sendError(conn, id, 'bad_request', '"instance" must be a non-empty string');
    if (role === 'agent') {
      if (!name) return this.sendError(conn, id, 'bad_request', 'an agent registers with the "instance" it shapes');
      if (this.agentsByName.has(name))
        return this.sendError(conn, id, 'duplicate_instance', `an agent for ${name} is already connected`);
      conn.role = 'agent';
      conn.shapes = name;
      this.agentsByName.set(name, conn);
      const inst = this.byName.get(name);
      if (inst) inst.agent = conn;
      return this.reply(conn, id, { run_id: this.runId, plan: this.plan });
    }
    if (role !== 'instance') return this.sendError(conn, id, 'bad_request', '"role" must be "instance" or "agent"');
    const group =
      typeof msg.group === 'string' && msg.group.length > 0 && msg.group.length <= NAME_LIMIT ? msg.group : undefined;
    if (!group) return this.sendError(conn, id, 'bad_request', '"group" must be a non-empty string');
    const dataIp = typeof msg.data_ip === 'string' && msg.data_ip.length <= 64 ? msg.data_ip : null;
    const expected = this.options.groups?.[group];
    if (this.options.groups && expected === undefined)
      return this.sendError(
        conn,
        id,
        'unknown_group',
        `no group "${group}" in this run (groups: ${Object.keys(this.options.groups).join(', ')})`,
      );
    if (this.instances.length >= this.options.instances)
      return this.sendError(conn, id, 'run_full', `all ${this.options.instances} instances have registered`);
    const groupSeq = (this.groupCounts.get(group) ?? 0) + 1;
    if (expected !== undefined && groupSeq > expected)
      return this.sendError(conn, id, 'group_full', `all ${expected} instances of group "${group}" have registered`);
    const instanceName = name ?? `${group}-${groupSeq - 1}`;
    if (this.byName.has(instanceName))
      return this.sendError(conn, id, 'duplicate_instance', `instance ${instanceName} has already registered`);
    const inst = this.addInstance(instanceName, group, dataIp, conn);
    conn.role = 'instance';
    conn.instance = inst;
    conn.socket.setTimeout(0);
    const identity: Identity = {
      run_id: this.runId,
      plan: this.plan,
      name: instanceName,
      group,
      seq: inst.seq,
      group_seq: groupSeq,
      instances: this.options.instances,
      group_instances: expected ?? null,
    };
    this.reply(conn, id, identity as unknown as Record<string, unknown>);
  }

  // ── Run state ───────────────────────────────────────────────────────────────────────────

  /** Records a new instance of `group`, with the next global and group sequence numbers. */
  private addInstance(name: string, group: string, dataIp: string | null, conn: Conn | undefined): Instance {
    const groupSeq = (this.groupCounts.get(group) ?? 0) + 1;
    this.groupCounts.set(group, groupSeq);
    const inst: Instance = {
      name,
      group,
      seq: this.instances.length + 1,
      groupSeq,
      dataIp,
      registeredMs: Date.now() - this.startedAt,
      conn,
      agent: this.agentsByName.get(name),
      metrics: new Map(),
      messages: [],
      networkReady: this.readyNames.has(name),
      readyWaiters: [],
    };
    this.instances.push(inst);
    this.byName.set(name, inst);
    return inst;
  }

  /** Agents may report ready before their instance registers; remembered by name. */
  private readonly readyNames = new Set<string>();

  private markReady(name: string, inst: Instance | undefined): void {
    if (this.readyNames.has(name)) return;
    this.readyNames.add(name);
    this.signal(NETWORK_READY_STATE);
    if (!inst) return;
    inst.networkReady = true;
    for (const w of inst.readyWaiters.splice(0)) this.reply(w.conn, w.id, {});
  }

  private state(name: string): StateEntry {
    let entry = this.states.get(name);
    if (!entry) this.states.set(name, (entry = { count: 0, waiters: new Map() }));
    return entry;
  }

  private signal(name: string): number {
    const entry = this.state(name);
    const count = ++entry.count;
    const released = entry.waiters.get(count);
    if (released) {
      entry.waiters.delete(count);
      // Clients that do the same steps use the same ids: encode each distinct reply once.
      const encoded = new Map<number, Buffer>();
      for (const w of released) {
        if (w.id === undefined) continue;
        let line = encoded.get(w.id);
        if (!line) encoded.set(w.id, (line = Buffer.from(`{"re":${w.id},"count":${count}}\n`)));
        this.send(w.conn, line);
      }
    }
    return count;
  }

  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) this.topics.set(name, (t = { lines: [], subscribers: new Set() }));
    return t;
  }

  private publish(name: string, payload: unknown): number {
    const t = this.topic(name);
    t.lines.push(
      Buffer.from(JSON.stringify({ event: 'message', topic: name, seq: t.lines.length + 1, payload }) + '\n'),
    );
    for (const conn of t.subscribers) this.deliver(conn, name, t);
    return t.lines.length;
  }

  /**
   * Writes a subscriber's pending messages of a topic until its socket buffers
   * `DELIVERY_HIGH_WATER` bytes; the rest follows on 'drain'. Messages are kept in the topic
   * anyway (for replay), so a slow reader lags behind instead of growing a queue.
   */
  private deliver(conn: Conn, name: string, t: Topic): void {
    let next = conn.cursors.get(name);
    if (next === undefined || conn.closed) return;
    while (next <= t.lines.length && conn.socket.writableLength < DELIVERY_HIGH_WATER) {
      this.write(conn.socket, t.lines[next - 1]!);
      next++;
    }
    conn.cursors.set(name, next);
    if (next <= t.lines.length && !conn.drainPending) {
      conn.drainPending = true;
      conn.socket.once('drain', () => {
        conn.drainPending = false;
        for (const [topic] of conn.cursors) {
          const tt = this.topics.get(topic);
          if (tt) this.deliver(conn, topic, tt);
        }
      });
    }
  }

  private setOutcome(inst: Instance, outcome: Outcome, reason: string | undefined): void {
    inst.outcome = outcome;
    if (reason !== undefined) inst.reason = reason;
    inst.endedMs = Date.now() - this.startedAt;
    if (outcome === 'failure' || outcome === 'crash') {
      this.endRun(
        'failure',
        `${inst.name} ${outcome === 'crash' ? 'crashed' : 'failed'}${reason ? `: ${reason}` : ''}`,
        'stopped',
      );
      return;
    }
    const succeeded = this.instances.filter((i) => i.outcome === 'success').length;
    if (succeeded === this.options.instances) this.endRun('success', undefined, 'stopped');
  }

  private onDeadline(): void {
    if (this.result) return;
    const missing = this.options.instances - this.instances.length;
    const running = this.instances.filter((i) => !i.outcome).length;
    const parts = [running && `${running} timed out`, missing && `${missing} never registered`]
      .filter(Boolean)
      .join(', ');
    this.endRun('failure', `the run deadline (${this.options.timeoutMs} ms) passed: ${parts}`, 'timeout');
  }

  /** Decides the run: instances still without an outcome get `rest`, everyone gets `stop`. */
  private endRun(outcome: 'success' | 'failure', reason: string | undefined, rest: 'stopped' | 'timeout'): void {
    if (this.result) return;
    if (this.deadline) clearTimeout(this.deadline);
    const now = Date.now() - this.startedAt;
    for (const inst of this.instances) {
      if (!inst.outcome) {
        inst.outcome = rest;
        inst.reason =
          rest === 'timeout' ? 'no outcome before the run deadline' : `stopped: ${reason ?? 'the run ended'}`;
        inst.endedMs = now;
      }
    }
    this.result = this.buildResults(outcome, reason ?? null, now);
    const stop = JSON.stringify({ event: 'stop', outcome, reason: reason ?? null }) + '\n';
    for (const conn of this.conns) {
      this.send(conn, stop);
    }
    for (const entry of this.states.values()) {
      for (const list of entry.waiters.values())
        for (const w of list) this.sendError(w.conn, w.id, 'run_ended', 'the run ended before the barrier was reached');
      entry.waiters.clear();
    }
    for (const p of this.pendingConfigures.values())
      this.sendError(p.from, p.id, 'run_ended', 'the run ended before the network was configured');
    this.pendingConfigures.clear();
    this.resolveEnded(this.result);
  }

  private buildResults(outcome: 'success' | 'failure', reason: string | null, now: number): Results {
    const groups: Record<string, GroupResult> = {};
    const names = new Set([...Object.keys(this.options.groups ?? {}), ...this.instances.map((i) => i.group)]);
    for (const g of names) {
      const members = this.instances.filter((i) => i.group === g);
      const outcomes: Record<string, number> = {};
      for (const i of members) outcomes[i.outcome!] = (outcomes[i.outcome!] ?? 0) + 1;
      groups[g] = {
        expected: this.options.groups?.[g] ?? null,
        registered: members.length,
        outcomes,
        metrics: summarize(this.groupMetrics.get(g) ?? new Map()),
      };
    }
    return {
      run_id: this.runId,
      plan: this.plan,
      outcome,
      reason,
      duration_ms: now,
      expected_instances: this.options.instances,
      registered_instances: this.instances.length,
      groups,
      instances: this.instances.map((i) => ({
        name: i.name,
        group: i.group,
        seq: i.seq,
        group_seq: i.groupSeq,
        data_ip: i.dataIp,
        outcome: i.outcome!,
        reason: i.reason ?? null,
        registered_ms: i.registeredMs,
        ended_ms: i.endedMs ?? null,
        metrics: summarize(i.metrics),
        messages: [...i.messages],
      })),
    };
  }

  /**
   * For drivers that watch the processes: an instance that died before it registered (or
   * without the coordinator noticing) is recorded as crashed, which decides the run.
   */
  crashed(name: string, group: string, reason: string): void {
    if (this.result) return;
    const known = this.byName.get(name);
    if (known) {
      if (!known.outcome) this.setOutcome(known, 'crash', reason);
      return;
    }
    const inst = this.addInstance(name, group, null, undefined);
    this.setOutcome(inst, 'crash', reason);
  }

  /** Ends the run now as a failure (the driver was interrupted, say); the rest are `stopped`. */
  abort(reason: string): void {
    this.endRun('failure', reason, 'stopped');
  }

  /** Live progress, as `/status` serves it. */
  status(): Record<string, unknown> {
    const outcomes: Record<string, number> = {};
    const groups: Record<string, { expected: number | null; registered: number; outcomes: Record<string, number> }> =
      {};
    for (const [g, n] of Object.entries(this.options.groups ?? {}))
      groups[g] = { expected: n, registered: 0, outcomes: {} };
    for (const i of this.instances) {
      const g = (groups[i.group] ??= { expected: null, registered: 0, outcomes: {} });
      g.registered++;
      if (i.outcome) {
        outcomes[i.outcome] = (outcomes[i.outcome] ?? 0) + 1;
        g.outcomes[i.outcome] = (g.outcomes[i.outcome] ?? 0) + 1;
      }
    }
    const states: Record<string, number> = {};
    for (const name of [...this.states.keys()].sort()) states[name] = this.states.get(name)!.count;
    return {
      run_id: this.runId,
      plan: this.plan,
      state: this.result ? 'ended' : 'running',
      outcome: this.result?.outcome ?? null,
      elapsed_ms: this.startedAt ? Date.now() - this.startedAt : 0,
      instances: this.options.instances,
      registered: this.instances.length,
      network_ready: this.readyNames.size,
      outcomes,
      states,
      groups,
      connections: this.conns.size,
    };
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────

  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body, null, 2) + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'only GET and HEAD' });
    switch (path) {
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end(req.method === 'HEAD' ? undefined : 'ok\n');
      case '/status':
        return json(200, this.status());
      case '/results':
        return this.result
          ? json(200, this.result)
          : json(409, { error: 'the run has not ended yet; see /status', status: this.status() });
      case '/metrics':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return void res.end(
          req.method === 'HEAD' ? undefined : metricsText(this.status(), this.groupMetrics, this.topicCounts()),
        );
      default:
        return json(404, { error: `no such endpoint: ${path} (try /healthz, /status, /results, /metrics)` });
    }
  }

  private topicCounts(): Map<string, number> {
    return new Map([...this.topics].map(([name, t]) => [name, t.lines.length]));
  }
}

const KNOWN_TYPES = new Set([
  'signal',
  'barrier',
  'publish',
  'subscribe',
  'unsubscribe',
  'record',
  'message',
  'outcome',
  'network_wait_ready',
  'network_configure',
  'network_ready',
  'network_failed',
  'configured',
]);
