/**
 * The tgc SDK: what a test program imports to take part in a run.
 *
 *   import { run } from 'tgc/sdk';
 *   await run(async (env) => {
 *     await env.network.waitReady();
 *     await env.sync.signalAndWait('ready');
 *     env.record('rtt_ms', 12.5, 'ms');
 *   });
 *
 * It speaks the coordinator protocol (docs/protocol.md) and depends on Node built-ins only.
 */
import { networkInterfaces } from 'node:os';
import { parseIpv4 } from '../model/ipv4.js';
import { Client, subscription, type StopEvent, type Subscription } from './client.js';

export { CoordinatorError, type StopEvent, type Subscription } from './client.js';

export interface ConnectOptions {
  /** `host:port` of the coordinator. @default env TGC_COORDINATOR, or SYNC_SERVICE_HOST:SYNC_SERVICE_PORT */
  readonly coordinator?: string;
  /** @default env TGC_GROUP, or TEST_GROUP_ID */
  readonly group?: string;
  /** This instance's name, which pairs it with its shaping agent. @default env TGC_INSTANCE */
  readonly instance?: string;
  /** Where to read the defaults above from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Keep trying to reach the coordinator this long (it may start after the instances). @default 60000 */
  readonly connectTimeoutMs?: number;
}

export interface RunEnv {
  readonly runId: string;
  readonly plan: string;
  /** This instance's name, e.g. `runners-0`. */
  readonly name: string;
  readonly group: string;
  /** 1..instances, in registration order, unique in the run. */
  readonly seq: number;
  /** 1..groupInstances, in registration order, unique in the group. */
  readonly groupSeq: number;
  readonly instances: number;
  readonly groupInstances: number | null;
  /** The merged params of this instance's group (`TGC_PARAMS`), types intact. */
  readonly params: Readonly<Record<string, unknown>>;
  /** CIDR of the data network (`TGC_DATA_SUBNET`), if any. */
  readonly dataSubnet: string | undefined;
  /** This instance's address on the data network (`TGC_DATA_IP`, else found by `dataSubnet`). */
  readonly dataIp: string | undefined;
  /** A writable directory collected after the run (`TGC_OUTPUTS`). */
  readonly outputsDir: string | undefined;
  readonly sync: Sync;
  readonly network: NetworkControl;
  /** Records a metric value; aggregated per group in the results. */
  record(name: string, value: number, unit?: string): void;
  /** A free-form message, kept with this instance's results. */
  message(text: string): void;
  success(): Promise<void>;
  failure(reason: string): Promise<void>;
  /** Called once when the coordinator ends the run (all done, a failure elsewhere, the deadline). */
  onStop(handler: (stop: StopEvent) => void): void;
  close(): Promise<void>;
}

export interface Sync {
  /** Signals `state`; resolves to how many signals it has counted, this one included. */
  signal(state: string): Promise<number>;
  /** Resolves once `state` has been signalled `target` times. */
  barrier(state: string, target: number): Promise<void>;
  /** Signals, then waits until `target` (default: every instance) have. Resolves to this signal's count. */
  signalAndWait(state: string, target?: number): Promise<number>;
  /** Resolves to the message's position in the topic (1-based). */
  publish(topic: string, payload: unknown): Promise<number>;
  /** Every message of the topic, from the first (late subscribers get a full replay), in order. */
  subscribe<T = unknown>(topic: string): Subscription<T>;
  publishSubscribe<T = unknown>(
    topic: string,
    payload: unknown,
  ): Promise<{ seq: number; subscription: Subscription<T> }>;
}

export interface NetworkControl {
  /** Resolves once this instance's shaping is applied: no test traffic should flow before. */
  waitReady(): Promise<void>;
  /**
   * Asks this instance's shaping agent for a new egress shape (composition notation:
   * `{ latency: "100ms", loss: "1%" }`); resolves once applied. With `callbackState`, the
   * coordinator signals that state when it is, so others can wait on it. With `to` (an instance
   * name, a group id or `group[index]`), only the links to those instances change, over the
   * plan's shapes, as a `link` event of the plan does.
   */
  configure(shape: Readonly<Record<string, unknown>>, options?: { callbackState?: string; to?: string }): Promise<void>;
}

/** The address in `cidr` that this host has, if any (IPv4). */
export function addressIn(cidr: string | undefined): string | undefined {
  if (!cidr) return undefined;
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const size = 2 ** (32 - Number(m[2]));
  const base = parseIpv4(m[1]!);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4') continue;
      const n = parseIpv4(a.address);
      if (n >= base && n < base + size) return a.address;
    }
  }
  return undefined;
}

/** Connects to the coordinator named by the environment (SPEC §5) and registers. */
export async function connect(options: ConnectOptions = {}): Promise<RunEnv> {
  const env = options.env ?? process.env;
  const address =
    options.coordinator ??
    env.TGC_COORDINATOR ??
    (env.SYNC_SERVICE_HOST ? `${env.SYNC_SERVICE_HOST}:${env.SYNC_SERVICE_PORT ?? '5050'}` : undefined);
  if (!address)
    throw new Error('no coordinator address: set TGC_COORDINATOR=host:port (tgc sets it inside every instance)');
  const group = options.group ?? env.TGC_GROUP ?? env.TEST_GROUP_ID;
  if (!group) throw new Error('no group: set TGC_GROUP (tgc sets it inside every instance)');
  const instance = options.instance ?? env.TGC_INSTANCE;
  const params = env.TGC_PARAMS ? (JSON.parse(env.TGC_PARAMS) as Record<string, unknown>) : {};
  const dataSubnet = env.TGC_DATA_SUBNET ?? env.TEST_SUBNET;
  // The driver says which address is ours when it knows (the interface may still be coming up);
  // otherwise it is the one this host has in the data subnet.
  const dataIp = env.TGC_DATA_IP ?? addressIn(dataSubnet);
  const client = await Client.connect(address, options.connectTimeoutMs ?? 60_000);
  const id = await client.request('register', {
    role: 'instance',
    group,
    ...(instance && { instance }),
    ...(dataIp && { data_ip: dataIp }),
  });

  const sync: Sync = {
    signal: async (state) => (await client.request('signal', { state })).count as number,
    barrier: async (state, target) => {
      await client.request('barrier', { state, target });
    },
    signalAndWait: async (state, target = id.instances as number) => {
      const count = await sync.signal(state);
      await sync.barrier(state, target);
      return count;
    },
    publish: async (topic, payload) => (await client.request('publish', { topic, payload })).seq as number,
    subscribe: <T>(topic: string) => subscription<T>(client, topic),
    publishSubscribe: async <T>(topic: string, payload: unknown) => {
      const subscription = sync.subscribe<T>(topic);
      const seq = await sync.publish(topic, payload);
      return { seq, subscription };
    },
  };
  const outcome = async (status: 'success' | 'failure', reason?: string) => {
    await client.request('outcome', { status, ...(reason !== undefined && { reason }) });
  };
  return {
    runId: id.run_id as string,
    plan: id.plan as string,
    name: id.name as string,
    group: id.group as string,
    seq: id.seq as number,
    groupSeq: id.group_seq as number,
    instances: id.instances as number,
    groupInstances: (id.group_instances as number | null) ?? null,
    params,
    dataSubnet,
    dataIp,
    outputsDir: env.TGC_OUTPUTS ?? env.TEST_OUTPUTS_PATH,
    sync,
    network: {
      waitReady: async () => {
        await client.request('network_wait_ready');
      },
      configure: async (shape, opts = {}) => {
        await client.request('network_configure', {
          shape,
          ...(opts.callbackState !== undefined && { callback_state: opts.callbackState }),
          ...(opts.to !== undefined && { to: opts.to }),
        });
      },
    },
    record: (name, value, unit = '') => client.fire('record', { name, value, unit }),
    message: (text) => client.fire('message', { text }),
    success: () => outcome('success'),
    failure: (reason) => outcome('failure', reason),
    onStop: (handler) => client.onStop(handler),
    close: () => client.close(),
  };
}

/**
 * Runs a test body as one instance: success when it returns, failure (with the error's
 * message) when it throws, crash when the process dies first. Exits the process: 0 on
 * success, 1 otherwise; stops early (exit 1) when the coordinator ends the run first.
 */
export async function run(body: (env: RunEnv) => Promise<void> | void, options: ConnectOptions = {}): Promise<never> {
  let env: RunEnv;
  try {
    env = await connect(options);
  } catch (err) {
    process.stderr.write(`tgc: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let finished = false;
  env.onStop((stop) => {
    if (finished) return;
    process.stderr.write(
      `tgc: the run ended before this instance finished (${stop.outcome}${stop.reason ? `: ${stop.reason}` : ''})\n`,
    );
    process.exit(1);
  });
  let code = 0;
  try {
    await body(env);
    finished = true;
    await env.success();
  } catch (err) {
    finished = true;
    code = 1;
    const reason = err instanceof Error ? err.message || err.name : String(err);
    process.stderr.write(`tgc: ${env.name} failed: ${reason}\n`);
    await env.failure(reason).catch(() => undefined);
  }
  await env.close().catch(() => undefined);
  process.exit(code);
}
