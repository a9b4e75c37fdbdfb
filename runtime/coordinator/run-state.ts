import {
  NETWORK_INITIALIZED_STATE,
  NETWORK_READY_STATE,
  type Aggregate,
  type Outcome,
  type Results,
  type Status,
} from '../../protocol/messages.js';
import type { Connections } from './connections.js';
import { buildResults } from './build-results.js';
import { groupOf, InstanceAddresses } from './instance-addresses.js';
import { lastPrintedOutcome } from '../../protocol/sdkgo-events.js';
import { runStatus } from './run-status.js';
import { Timeline } from './timeline.js';
import type { Conn, Instance, PendingConfigure, RunOptions, StateEntry, Topic, TopicStream } from './types.js';
import type { ScheduleHooks } from './types.js';

export type { Instance, RunOptions } from './types.js';

/** Topic messages are written to a subscriber while less than this is queued to it. */
const DELIVERY_HIGH_WATER = 1024 * 1024;

/**
 * What one run knows: its instances and agents, sync states with their barrier waiters,
 * topics, pending network changes, outcomes; and the rule that decides the run (all must
 * succeed; a failure or a crash ends it at once, or under `onFailure: continue` once every
 * instance has an outcome; the deadline ends it in any case).
 */
export class RunState {
  readonly instances: Instance[] = [];
  readonly byName = new Map<string, Instance>();
  readonly agentsByName = new Map<string, Conn>();
  readonly groupCounts = new Map<string, number>();
  readonly groupMetrics = new Map<string, Map<string, Aggregate>>();
  readonly states = new Map<string, StateEntry>();
  readonly topics = new Map<string, Topic>();
  readonly pendingConfigures = new Map<number, PendingConfigure>();
  /** Agents may report ready before their instance registers; remembered by name. */
  readonly readyNames = new Set<string>();
  /** What happened when, for results.json's `timeline`. */
  readonly timeline = new Timeline();
  /** Data addresses, by instance, as their shaping agents gave them (Testground rules match them). */
  readonly dataIps = new Map<string, string>();
  /** Instance by the address its connections come from (tells WebSocket clients apart). */
  readonly addresses = new InstanceAddresses();
  schedule: ScheduleHooks | undefined; // the plan's [[events]], when it has any
  nextRef = 1;
  startedAt = 0;
  result: Results | undefined;
  private readonly resolveEnded: (r: Results) => void;

  constructor(
    readonly o: RunOptions,
    readonly net: Connections,
    resolveEnded: (r: Results) => void,
    /** Called once, when the run's outcome is decided. */
    private readonly onEnd: () => void,
  ) {
    this.resolveEnded = resolveEnded;
  }

  /** Asks an instance's shaping agent to apply a shape; `configured` answers when it has. */
  configure(agent: Conn, p: PendingConfigure): void {
    const ref = this.nextRef++;
    this.pendingConfigures.set(ref, p);
    this.net.send(agent, JSON.stringify({ event: 'configure', ref, instance: p.by.name, shape: p.shape }) + '\n');
  }

  /** An agent applied (or failed to apply) a shape: the timeline, the callback state, the answer. */
  configured(p: PendingConfigure, error: string | undefined): void {
    if (error !== undefined) {
      if (p.done) return p.done(error);
      return p.from && this.net.sendError(p.from, p.id, 'configure_failed', error);
    }
    if (!this.result && !p.silent) {
      // A shape is a handful of fields; an oversized one is not worth keeping whole.
      const shape = JSON.stringify(p.shape).length <= 4096 ? p.shape : { omitted: 'too large' };
      this.timeline.add({ t_ms: this.elapsed(), event: 'configure', instance: p.by.name, shape });
    }
    const count = p.callbackState !== undefined && !this.result ? this.signal(p.callbackState, p.by) : undefined;
    if (p.done) p.done();
    else if (p.from) this.net.reply(p.from, p.id, count === undefined ? {} : { count });
  }

  /** A service instance speaking through tgc sync: known by name, in no count and in no result. */
  addService(name: string, group: string, dataIp: string | null): Instance {
    const inst: Instance = {
      name,
      group,
      seq: 0,
      groupSeq: 0,
      dataIp,
      registeredMs: this.elapsed(),
      conn: undefined,
      agent: this.agentsByName.get(name),
      metrics: new Map(),
      messages: [],
      networkReady: this.readyNames.has(name),
      readyWaiters: [],
      service: true,
    };
    this.byName.set(name, inst);
    return inst;
  }

  /** Milliseconds since the coordinator started: every time in the results is one of these. */
  elapsed(): number {
    return Date.now() - this.startedAt;
  }

  /** Records a new instance of `group`, with the next global and group sequence numbers. */
  addInstance(name: string, group: string, dataIp: string | null, conn: Conn | undefined): Instance {
    const groupSeq = (this.groupCounts.get(group) ?? 0) + 1;
    this.groupCounts.set(group, groupSeq);
    const inst: Instance = {
      name,
      group,
      seq: this.instances.length + 1,
      groupSeq,
      dataIp,
      registeredMs: this.elapsed(),
      conn,
      agent: this.agentsByName.get(name),
      metrics: new Map(),
      messages: [],
      networkReady: this.readyNames.has(name),
      readyWaiters: [],
    };
    this.instances.push(inst);
    this.byName.set(name, inst);
    this.timeline.add({ t_ms: inst.registeredMs, event: 'registered', instance: name });
    if (this.instances.length === this.o.instances) {
      this.timeline.add({ t_ms: inst.registeredMs, event: 'mark', name: 'all-registered' });
    }
    // Without shaping agents nobody else would say that this instance's network is ready.
    if (!this.o.agents) this.signal(NETWORK_INITIALIZED_STATE);
    return inst;
  }

  /** The run's group a Testground group id names: itself, or the group tgc made of it (a DNS label). */
  groupOf(id: string): string | undefined {
    return groupOf(id, this.o.groups);
  }

  markReady(name: string, inst: Instance | undefined): void {
    if (this.readyNames.has(name)) return;
    this.readyNames.add(name);
    const t = this.elapsed();
    this.timeline.add({ t_ms: t, event: 'network-ready', instance: name });
    if (this.readyNames.size === this.o.instances)
      this.timeline.add({ t_ms: t, event: 'mark', name: 'all-network-ready' });
    this.signal(NETWORK_READY_STATE);
    this.signal(NETWORK_INITIALIZED_STATE);
    if (!inst) return;
    inst.networkReady = true;
    for (const w of inst.readyWaiters.splice(0)) this.net.reply(w.conn, w.id, {});
  }

  state(name: string): StateEntry {
    let entry = this.states.get(name);
    if (!entry) this.states.set(name, (entry = { count: 0, waiters: new Map() }));
    return entry;
  }

  /** Counts a signal of state `name` (by `by`, for the timeline) and releases the barriers it reaches. */
  signal(name: string, by?: Instance): number {
    const entry = this.state(name);
    const count = ++entry.count;
    if (name !== NETWORK_READY_STATE && name !== NETWORK_INITIALIZED_STATE) {
      this.timeline.add({ t_ms: this.elapsed(), event: 'signal', instance: by?.name ?? null, state: name, count });
    }
    const released = entry.waiters.get(count);
    if (released) {
      entry.waiters.delete(count);
      // Clients that do the same steps use the same ids: encode each distinct reply once.
      const encoded = new Map<number, Buffer>();
      for (const w of released) {
        if ('notify' in w) {
          w.notify(count);
          continue;
        }
        if (w.id === undefined) continue;
        let line = encoded.get(w.id);
        if (!line) encoded.set(w.id, (line = Buffer.from(`{"re":${w.id},"count":${count}}\n`)));
        this.net.send(w.conn, line);
      }
    }
    return count;
  }

  topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) this.topics.set(name, (t = { lines: [], payloadAt: [], subscribers: new Set(), streams: new Set() }));
    return t;
  }

  publish(name: string, payload: unknown): number {
    const t = this.topic(name);
    const seq = t.lines.length + 1;
    const head = `{"event":"message","topic":${JSON.stringify(name)},"seq":${seq},"payload":`;
    t.lines.push(Buffer.from(`${head}${JSON.stringify(payload) ?? 'null'}}\n`));
    t.payloadAt.push(Buffer.byteLength(head));
    for (const conn of t.subscribers) this.deliver(conn, name, t);
    for (const s of t.streams) this.stream(s, t);
    return t.lines.length;
  }

  /** The payload of message `seq` (1-based) of a topic, as JSON text. */
  payloadJson(t: Topic, seq: number): string {
    const line = t.lines[seq - 1]!;
    return line.subarray(t.payloadAt[seq - 1]!, line.length - 2).toString();
  }

  /** Sends a WebSocket subscription what it has not seen, while its client keeps up. */
  stream(s: TopicStream, t: Topic): void {
    while (s.next <= t.lines.length) {
      if (!s.push(this.payloadJson(t, s.next))) {
        s.resume = () => this.stream(s, t);
        return;
      }
      s.next++;
    }
  }

  /**
   * Writes a subscriber's pending messages of a topic until its socket buffers
   * `DELIVERY_HIGH_WATER` bytes; the rest follows on 'drain'. Messages are kept in the topic
   * anyway (for replay), so a slow reader lags behind instead of growing a queue.
   */
  deliver(conn: Conn, name: string, t: Topic): void {
    let next = conn.cursors.get(name);
    if (next === undefined || conn.closed) return;
    while (next <= t.lines.length && conn.socket.writableLength < DELIVERY_HIGH_WATER) {
      this.net.write(conn.socket, t.lines[next - 1]!);
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

  /** A connection closed: its subscriptions and pending changes go; an instance without an outcome crashed. */
  closed(conn: Conn): void {
    for (const topic of conn.cursors.keys()) this.topics.get(topic)?.subscribers.delete(conn);
    if (conn.role === 'agent' && conn.shapes !== undefined) {
      if (this.agentsByName.get(conn.shapes) === conn) this.agentsByName.delete(conn.shapes);
      for (const [ref, p] of this.pendingConfigures) {
        if (p.agent === conn) {
          this.pendingConfigures.delete(ref);
          const why = `the shaping agent of ${conn.shapes} disconnected`;
          if (p.done) p.done(why);
          else if (p.from) this.net.sendError(p.from, p.id, 'configure_failed', why);
        }
      }
    }
    const inst = conn.instance;
    if (inst && inst.conn === conn) {
      inst.conn = undefined;
      if (!inst.outcome && !this.result) this.lost(inst);
    }
  }

  /**
   * An instance's connection is gone without an outcome: a crash — unless, within the grace
   * period, its process's exit is reported (`exited`), which then decides.
   */
  lost(inst: Instance): void {
    if (this.o.exitGraceMs <= 0) return this.setOutcome(inst, 'crash', 'connection lost without an outcome');
    inst.closedTimer ??= setTimeout(() => {
      if (!inst.outcome && !this.result) this.setOutcome(inst, 'crash', 'connection lost without an outcome');
    }, this.o.exitGraceMs);
    inst.closedTimer.unref();
  }

  /**
   * A driver saw an instance's process end (`code`, or killed by `signal`). One that reported an
   * outcome keeps it; otherwise exit 0 is success (or, for Testground programs, a crash), another
   * code a failure with the end of its log, a signal a crash.
   */
  exited(name: string, group: string, code: number | null, signal: string | null, logTail: string): void {
    if (this.result) return;
    let inst = this.byName.get(name);
    if (!inst) {
      // It never registered: counted now, if the run has room for it.
      if ((this.o.groups && !(group in this.o.groups)) || this.instances.length >= this.o.instances) return;
      inst = this.addInstance(name, group, null, undefined);
    }
    if (inst.closedTimer) clearTimeout(inst.closedTimer);
    if (inst.outcome) return;
    const tail = logTail.trim() ? `\n${logTail.trim()}` : '';
    if (signal !== null || code === null) {
      this.setOutcome(inst, 'crash', `killed by ${signal ?? 'an unknown cause'}${tail}`);
    } else if (code !== 0) {
      this.setOutcome(inst, 'failure', `exited with code ${code}${tail}`);
    } else if (this.o.exitZero === 'success') {
      this.setOutcome(inst, 'success', undefined);
    } else {
      // Testground decides by run events alone: an event printed on stdout is no outcome (its
      // "silent failure" regression test), but it says what the program meant to report.
      const printed = lastPrintedOutcome(logTail);
      if (printed) {
        const said = printed.reason ? ` (${printed.reason.split('\n')[0]})` : '';
        this.setOutcome(inst, 'failure', `printed ${printed.outcome}_event${said} on stdout but sent no run event`);
      } else this.setOutcome(inst, 'crash', `exited with code 0 without reporting an outcome${tail}`);
    }
  }

  setOutcome(inst: Instance, outcome: Outcome, reason: string | undefined): void {
    inst.outcome = outcome;
    if (reason !== undefined) inst.reason = reason;
    inst.endedMs = this.elapsed();
    this.timeline.add({ t_ms: inst.endedMs, event: 'outcome', instance: inst.name, outcome, reason: reason ?? null });
    const failed = (i: Instance) =>
      `${i.name} ${i.outcome === 'crash' ? 'crashed' : 'failed'}${i.reason ? `: ${i.reason}` : ''}`;
    if ((outcome === 'failure' || outcome === 'crash') && this.o.onFailure !== 'continue') {
      return this.endRun('failure', failed(inst), 'stopped');
    }
    // `continue` (Testground's way): the run is decided once every instance has its own outcome.
    if (this.instances.length < this.o.instances || this.instances.some((i) => !i.outcome)) return;
    const bad = this.instances.filter((i) => i.outcome !== 'success');
    if (bad.length === 0) return this.endRun('success', undefined, 'stopped');
    this.endRun(
      'failure',
      `${bad.length} of ${this.o.instances} did not succeed; first: ${failed(bad[0]!)}`,
      'stopped',
    );
  }

  onDeadline(): void {
    if (this.result) return;
    const missing = this.o.instances - this.instances.length;
    const running = this.instances.filter((i) => !i.outcome).length;
    const parts = [running && `${running} timed out`, missing && `${missing} never registered`]
      .filter(Boolean)
      .join(', ');
    this.endRun('failure', `the run deadline (${this.o.timeoutMs} ms) passed: ${parts}`, 'timeout');
  }

  /** Decides the run: instances still without an outcome get `rest`, everyone gets `stop`. */
  endRun(outcome: 'success' | 'failure', reason: string | undefined, rest: 'stopped' | 'timeout'): void {
    if (this.result) return;
    this.onEnd();
    for (const inst of this.instances) if (inst.closedTimer) clearTimeout(inst.closedTimer);
    const now = this.elapsed();
    for (const inst of this.instances) {
      if (!inst.outcome) {
        inst.outcome = rest;
        inst.reason =
          rest === 'stopped'
            ? `stopped: ${reason ?? 'the run ended'}`
            : inst.ws
              ? 'connected, no outcome'
              : 'no outcome before the run deadline';
        inst.endedMs = now;
        this.timeline.add({ t_ms: now, event: 'outcome', instance: inst.name, outcome: rest, reason: inst.reason });
      }
    }
    this.result = buildResults(this.o, this.instances, this.groupMetrics, this.timeline, {
      outcome,
      reason: reason ?? null,
      now,
    });
    const stop = JSON.stringify({ event: 'stop', outcome, reason: reason ?? null }) + '\n';
    for (const conn of this.net.live) this.net.send(conn, stop);
    for (const entry of this.states.values()) {
      for (const list of entry.waiters.values()) {
        for (const w of list) {
          // The WebSocket dialect answers as the sync service does when a wait is given up.
          if ('notify' in w) w.notify(undefined, 'context canceled');
          else this.net.sendError(w.conn, w.id, 'run_ended', 'the run ended before the barrier was reached');
        }
      }
      entry.waiters.clear();
    }
    for (const p of this.pendingConfigures.values()) {
      if (p.done) p.done('context canceled');
      else if (p.from) this.net.sendError(p.from, p.id, 'run_ended', 'the run ended before the network was configured');
    }
    this.pendingConfigures.clear();
    this.resolveEnded(this.result);
  }

  /** Live progress, as `/status` serves it. */
  status(): Status {
    return runStatus(this, this.net);
  }
}
