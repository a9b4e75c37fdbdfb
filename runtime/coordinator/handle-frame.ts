import type { Identity, Request } from '../../protocol/messages.js';
import { addSample } from './aggregate.js';
import type { Connections } from './connections.js';
import type { Conn, Instance } from './types.js';
import { resolveSelector } from '../../model/selectors.js';
import { parseShape } from '../../model/parse-shape.js';
import type { RunState } from './run-state.js';
import { MAX_MESSAGE_CHARS, MAX_MESSAGES_PER_INSTANCE, peerOf } from './types.js';

const NAME_LIMIT = 256;

/** What a handler is given: the run, the connections, the client and its request (fields unchecked). */
interface Ctx {
  readonly run: RunState;
  readonly net: Connections;
  readonly conn: Conn;
  readonly id: number | undefined;
  readonly msg: Record<string, unknown>;
  /** The field as a non-empty string of at most `max` characters, else undefined. */
  str(key: string, max?: number): string | undefined;
  /** Answers `bad_request` with `what`. */
  bad(what: string): void;
}

type Handler = (c: Ctx) => void;

/** One handler per request type of the protocol (`Request` in protocol/messages.ts), after registration. */
const HANDLERS: Readonly<Record<Exclude<Request['type'], 'register' | 'ping'>, Handler>> = {
  signal(c) {
    const state = c.str('state');
    if (!state) return c.bad('"state" must be a non-empty string');
    c.net.replyCount(c.conn, c.id, c.run.signal(state, c.conn.instance));
  },
  barrier(c) {
    const state = c.str('state');
    const target = c.msg.target;
    if (!state || !Number.isSafeInteger(target))
      return c.bad('"state" must be a non-empty string and "target" an integer');
    const entry = c.run.state(state);
    if (entry.count >= (target as number)) return c.net.replyCount(c.conn, c.id, entry.count);
    const list = entry.waiters.get(target as number) ?? [];
    list.push({ conn: c.conn, id: c.id });
    entry.waiters.set(target as number, list);
  },
  publish(c) {
    const topic = c.str('topic');
    if (!topic || !('payload' in c.msg)) return c.bad('"topic" must be a non-empty string and "payload" present');
    c.net.reply(c.conn, c.id, { seq: c.run.publish(topic, c.msg.payload) });
  },
  subscribe(c) {
    const topic = c.str('topic');
    const from = c.msg.from === undefined ? 1 : c.msg.from;
    if (!topic || !Number.isSafeInteger(from) || (from as number) < 1)
      return c.bad('"topic" must be a non-empty string and "from" an integer ≥ 1');
    const t = c.run.topic(topic);
    c.net.reply(c.conn, c.id, { seq: t.lines.length });
    c.conn.cursors.set(topic, Math.min(from as number, c.conn.cursors.get(topic) ?? Infinity));
    t.subscribers.add(c.conn);
    c.run.deliver(c.conn, topic, t);
  },
  unsubscribe(c) {
    const topic = c.str('topic');
    if (!topic) return c.bad('"topic" must be a non-empty string');
    c.conn.cursors.delete(topic);
    c.run.topics.get(topic)?.subscribers.delete(c.conn);
    c.net.reply(c.conn, c.id, {});
  },
  record(c) {
    const name = c.str('name');
    const value = c.msg.value;
    const unit = c.msg.unit === undefined ? '' : c.msg.unit;
    if (!name || typeof value !== 'number' || !Number.isFinite(value) || typeof unit !== 'string')
      return c.bad('"name" must be a string, "value" a finite number, "unit" a string');
    const inst = c.conn.instance;
    if (!inst) return c.bad('only instances record metrics');
    addSample(inst.metrics, name, value, unit);
    c.run.timeline.add({ t_ms: c.run.elapsed(), event: 'record', instance: inst.name, metric: name, value });
    let group = c.run.groupMetrics.get(inst.group);
    if (!group) c.run.groupMetrics.set(inst.group, (group = new Map()));
    addSample(group, name, value, unit);
    c.net.reply(c.conn, c.id, {});
  },
  message(c) {
    if (typeof c.msg.text !== 'string') return c.bad('"text" must be a string');
    const inst = c.conn.instance;
    if (inst && inst.messages.length < MAX_MESSAGES_PER_INSTANCE) {
      inst.messages.push(c.msg.text.slice(0, MAX_MESSAGE_CHARS));
    }
    c.net.reply(c.conn, c.id, {});
  },
  outcome(c) {
    const inst = c.conn.instance;
    const status = c.msg.status;
    if (!inst) return c.bad('only instances report outcomes');
    if (inst.service) return c.bad(`${inst.name} is a service: services have no outcome`);
    if (status !== 'success' && status !== 'failure') return c.bad('"status" must be "success" or "failure"');
    if (inst.outcome) {
      return c.net.sendError(
        c.conn,
        c.id,
        'outcome_reported',
        `the outcome of ${inst.name} is already ${inst.outcome}`,
      );
    }
    const reason =
      typeof c.msg.reason === 'string'
        ? c.msg.reason.slice(0, MAX_MESSAGE_CHARS)
        : status === 'failure'
          ? 'failed'
          : undefined;
    c.net.reply(c.conn, c.id, {});
    c.run.setOutcome(inst, status, reason);
  },
  network_wait_ready(c) {
    const inst = c.conn.instance;
    if (!inst) return c.bad('only instances wait for their network');
    if (!c.run.o.agents || inst.networkReady) return c.net.reply(c.conn, c.id, {});
    inst.readyWaiters.push({ conn: c.conn, id: c.id });
  },
  network_ready(c) {
    const shapes = c.conn.shapes;
    if (c.conn.role !== 'agent' || shapes === undefined) return c.bad('only shaping agents report network readiness');
    c.net.reply(c.conn, c.id, {});
    c.run.markReady(shapes, c.run.byName.get(shapes));
  },
  network_failed(c) {
    if (c.conn.role !== 'agent' || c.conn.shapes === undefined) {
      return c.bad('only shaping agents report network failures');
    }
    const reason = typeof c.msg.reason === 'string' ? c.msg.reason.slice(0, MAX_MESSAGE_CHARS) : 'no reason given';
    c.net.reply(c.conn, c.id, {});
    c.run.endRun('failure', `the network of ${c.conn.shapes} could not be shaped: ${reason}`, 'stopped');
  },
  network_configure(c) {
    const inst = c.conn.instance;
    const shape = c.msg.shape;
    const callback = c.msg.callback_state === undefined ? undefined : c.str('callback_state');
    if (!inst) return c.bad('only instances configure their network');
    if (shape === null || typeof shape !== 'object' || Array.isArray(shape)) return c.bad('"shape" must be an object');
    if (c.msg.callback_state !== undefined && !callback) return c.bad('"callback_state" must be a non-empty string');
    const agent = c.run.agentsByName.get(inst.name);
    if (!agent) return c.net.sendError(c.conn, c.id, 'no_agent', `no shaping agent is connected for ${inst.name}`);
    if (c.msg.to !== undefined) return configureTo(c, inst, agent, shape, callback);
    c.run.configure(agent, {
      from: c.conn,
      id: c.id,
      by: inst,
      callbackState: callback,
      agent,
      shape: shape as Record<string, unknown>,
    });
  },
  exited(c) {
    if (c.conn.role !== 'driver') return c.bad('only the driver reports how processes ended');
    const instance = c.str('instance');
    const group = c.str('group');
    const code = c.msg.code;
    const signal = c.msg.signal ?? null;
    const log = c.msg.log ?? '';
    if (!instance || !group || !(code === null || Number.isSafeInteger(code))) {
      return c.bad('"instance" and "group" must be names and "code" an integer or null');
    }
    if (!(signal === null || typeof signal === 'string') || typeof log !== 'string') {
      return c.bad('"signal" must be a string or null and "log" a string');
    }
    c.net.reply(c.conn, c.id, {});
    c.run.exited(instance, group, code as number | null, signal, log.slice(-MAX_MESSAGE_CHARS));
  },
  abort(c) {
    if (c.conn.role !== 'driver') return c.bad('only the driver ends a run from outside');
    const reason = typeof c.msg.reason === 'string' ? c.msg.reason.slice(0, MAX_MESSAGE_CHARS) : 'aborted';
    c.net.reply(c.conn, c.id, {});
    c.run.endRun('failure', reason, 'stopped');
  },
  process_done(c) {
    if (c.conn.role !== 'driver') return c.bad('only the driver carries out process actions');
    const ref = c.msg.ref;
    const error = typeof c.msg.error === 'string' ? c.msg.error.slice(0, MAX_MESSAGE_CHARS) : undefined;
    if (typeof ref !== 'number' || !c.run.schedule?.processDone(ref, error))
      return c.bad('"ref" names no process action sent to this driver');
    c.net.reply(c.conn, c.id, {});
  },
  configured(c) {
    const ref = c.msg.ref;
    const pending = typeof ref === 'number' ? c.run.pendingConfigures.get(ref) : undefined;
    if (!pending || pending.agent !== c.conn) return c.bad('"ref" names no configure request sent to this agent');
    c.run.pendingConfigures.delete(ref as number);
    c.net.reply(c.conn, c.id, {});
    c.run.configured(pending, typeof c.msg.error === 'string' ? c.msg.error.slice(0, MAX_MESSAGE_CHARS) : undefined);
  },
};

/** Handles one frame from a client: checks its envelope, registration and the run, then its type. */
export function handleFrame(run: RunState, net: Connections, conn: Conn, raw: unknown): void {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return net.sendError(conn, undefined, 'bad_request', 'a frame must be a JSON object');
  }
  const msg = raw as Record<string, unknown>;
  const id = Number.isSafeInteger(msg.id) ? (msg.id as number) : undefined;
  if (msg.id !== undefined && id === undefined) {
    return net.sendError(conn, undefined, 'bad_request', '"id" must be an integer');
  }
  const type = msg.type;
  if (type === 'ping') return net.reply(conn, id, {});
  if (type === 'register') return register(run, net, conn, id, msg);
  const handler =
    typeof type === 'string' && Object.hasOwn(HANDLERS, type) ? HANDLERS[type as keyof typeof HANDLERS] : undefined;
  if (!handler) return net.sendError(conn, id, 'unknown_type', `unknown message type ${JSON.stringify(type)}`);
  if (!conn.role) return net.sendError(conn, id, 'not_registered', `register before sending "${type as string}"`);
  if (run.result && type !== 'configured') {
    return net.sendError(conn, id, 'run_ended', `the run has ended (${run.result.outcome})`);
  }
  handler({
    run,
    net,
    conn,
    id,
    msg,
    str: (k, max = NAME_LIMIT) =>
      typeof msg[k] === 'string' && msg[k].length > 0 && msg[k].length <= max ? msg[k] : undefined,
    bad: (what) => net.sendError(conn, id, 'bad_request', what),
  });
}

function register(
  run: RunState,
  net: Connections,
  conn: Conn,
  id: number | undefined,
  msg: Record<string, unknown>,
): void {
  const fail = (code: Parameters<Connections['sendError']>[2], message: string) =>
    net.sendError(conn, id, code, message);
  if (conn.role) return fail('already_registered', 'this connection is already registered');
  if (run.result) return fail('run_ended', `the run has ended (${run.result.outcome})`);
  const role = msg.role ?? 'instance';
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= NAME_LIMIT ? v : undefined);
  const name = text(msg.instance);
  if (msg.instance !== undefined && name === undefined)
    return fail('bad_request', '"instance" must be a non-empty string');
  if (role === 'agent') {
    if (!name) return fail('bad_request', 'an agent registers with the "instance" it shapes');
    // A later agent replaces the earlier one: the instance's container restarted in a new network
    // namespace, where the old agent's connection may never see its end (its interface is gone).
    run.agentsByName.get(name)?.socket.destroy();
    conn.role = 'agent';
    conn.shapes = name;
    run.agentsByName.set(name, conn);
    run.addresses.know(peerOf(conn.socket), name);
    if (typeof msg.data_ip === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(msg.data_ip))
      run.dataIps.set(name, msg.data_ip);
    const inst = run.byName.get(name);
    if (inst) inst.agent = conn;
    return net.reply(conn, id, { run_id: run.o.runId, plan: run.o.plan });
  }
  if (role === 'driver') {
    // The program that started the instances: it tells how their processes ended (`exited`).
    conn.role = 'driver';
    conn.socket.setTimeout(0);
    run.schedule?.driverConnected(conn);
    return net.reply(conn, id, { run_id: run.o.runId, plan: run.o.plan });
  }
  if (role !== 'instance' && role !== 'attach') {
    return fail('bad_request', '"role" must be "instance", "agent", "driver" or "attach"');
  }
  const group = text(msg.group);
  if (!group) return fail('bad_request', '"group" must be a non-empty string');
  const dataIp = typeof msg.data_ip === 'string' && msg.data_ip.length <= 64 ? msg.data_ip : null;
  if (role === 'attach' && name && run.o.services?.[group] !== undefined) {
    // A service instance (tgc sync in its script): it syncs and shapes, decides nothing.
    conn.role = 'instance';
    conn.instance = run.byName.get(name) ?? run.addService(name, group, dataIp);
    conn.attached = true;
    conn.socket.setTimeout(0);
    return net.reply(conn, id, {
      run_id: run.o.runId,
      plan: run.o.plan,
      name,
      group,
      seq: null,
      group_seq: null,
      instances: run.o.instances,
      group_instances: run.o.services[group],
    });
  }
  const groups = run.o.groups;
  const expected = groups?.[group];
  if (groups && expected === undefined) {
    return fail('unknown_group', `no group "${group}" in this run (groups: ${Object.keys(groups).join(', ')})`);
  }
  // `attach` (tgc sync, one short call of a shell script): speak for the instance — registering
  // it the first time — without owning it: this connection closing is no crash.
  if (role === 'attach' && !name) return fail('bad_request', 'attach names the "instance" it speaks for');
  let inst = role === 'attach' ? run.byName.get(name!) : undefined;
  if (!inst) {
    if (run.instances.length >= run.o.instances) {
      return fail('run_full', `all ${run.o.instances} instances have registered`);
    }
    const groupSeq = (run.groupCounts.get(group) ?? 0) + 1;
    if (expected !== undefined && groupSeq > expected) {
      return fail('group_full', `all ${expected} instances of group "${group}" have registered`);
    }
    const instanceName = name ?? `${group}-${groupSeq - 1}`;
    if (run.byName.has(instanceName))
      return fail('duplicate_instance', `instance ${instanceName} has already registered`);
    inst = run.addInstance(instanceName, group, dataIp, role === 'attach' ? undefined : conn);
  }
  conn.role = 'instance';
  conn.instance = inst;
  if (role === 'attach') conn.attached = true;
  conn.socket.setTimeout(0);
  const identity: Identity = {
    run_id: run.o.runId,
    plan: run.o.plan,
    name: inst.name,
    group: inst.group,
    seq: inst.seq,
    group_seq: inst.groupSeq,
    instances: run.o.instances,
    group_instances: expected ?? null,
  };
  net.reply(conn, id, { ...identity });
}

/** `network_configure` with `to`: the caller's links to those instances only, over the plan's shapes. */
function configureTo(c: Ctx, inst: Instance, agent: Conn, raw: object, callback: string | undefined): void {
  const to = c.str('to');
  const groups = { ...c.run.o.groups, ...c.run.o.services };
  const names = to
    ? resolveSelector(
        to,
        Object.entries(groups).map(([id, instances]) => ({ id, instances })),
      )
    : undefined;
  if (!names || 'error' in names)
    return c.bad(`"to" must name an instance or a group of the run${names ? `: ${names.error}` : ''}`);
  const shape = parseShape(raw);
  if ('error' in shape) return c.net.sendError(c.conn, c.id, 'configure_failed', shape.error);
  // Answered as any configure is, once the agent applied the new table: timeline, callback, reply.
  const pending = { from: c.conn, id: c.id, by: inst, callbackState: callback, agent, shape: { ...raw, to } };
  c.run.schedule!.linkTo(inst.name, names, shape).then(
    () => c.run.configured(pending, undefined),
    (err: Error) => c.run.configured(pending, err.message),
  );
}
