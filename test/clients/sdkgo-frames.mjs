// A test plan that talks to the sync service exactly as a program on Testground's sdk-go does:
// the same WebSocket frames, byte for byte (sdk-go sync/client*.go, runtime/runenv_events.go,
// network/client.go): ids "0", "1", … per connection, JSON text frames ending in "\n", keys
// run:<run>:plan:<plan>:case:<case>:…, the InitializedTestCaseFn start-up, run events for its
// outcome. What it does is its group's `mode` param (TEST_INSTANCE_PARAMS):
//   mixed  — signal-and-wait `ready` for everyone, publish-subscribe its name on `peers`, succeed
//   fail   — a failure_event; crash — a panic's two crash_events; silent — exit with no event
//   netem  — ask for 100 ms latency on network:<hostname>, ping the peers (RTT ≈ 200 ms), then
//            cut the link (enable = false) and check that pings fail
//   plain, plain-fail — a plan without an init context: no sync service at all, its events on
//            stdout only (as sdk-go prints them), and metrics in results.out
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import WebSocket from 'ws';

const env = process.env;
const params = Object.fromEntries(
  (env.TEST_INSTANCE_PARAMS ?? '')
    .split('|')
    .map((kv) => kv.split('='))
    .filter((p) => p.length === 2),
);
const group = env.TEST_GROUP_ID;
const total = Number(env.TEST_INSTANCE_COUNT);
const prefix = `run:${env.TEST_RUN}:plan:${env.TEST_PLAN}:case:${env.TEST_CASE}`;
const state = (name) => `${prefix}:states:${name}`;
const topic = (name) => `${prefix}:topics:${name}`;

if (params.mode === 'plain' || params.mode === 'plain-fail') {
  const line = (event) => console.log(JSON.stringify({ ts: Date.now() * 1e6, event }));
  line({ start_event: { runenv: { test_group_id: group } } });
  const point = (name, value) => JSON.stringify({ ts: Date.now() * 1e6, type: 'point', name, measures: { value } });
  writeFileSync(
    join(env.TEST_OUTPUTS_PATH, 'results.out'),
    [point('lat', 5), point('lat', 7), point('lat', 9)].join('\n') + '\n',
  );
  writeFileSync(join(env.TEST_OUTPUTS_PATH, 'diagnostics.out'), point('gc', 1) + '\n');
  line(params.mode === 'plain' ? { success_event: { group } } : { failure_event: { group, error: 'plain failure' } });
  process.exit(0);
}

const ws = new WebSocket(`ws://${env.SYNC_SERVICE_HOST}:${env.SYNC_SERVICE_PORT}/`);
await new Promise((resolve, reject) => {
  ws.once('open', resolve);
  ws.once('error', reject);
});
let nextId = 0;
const handlers = new Map();
ws.on('message', (data) => {
  const r = JSON.parse(String(data));
  handlers.get(r.id)?.(r);
});
ws.on('close', () => {
  if (!done) {
    console.error('sync service closed the connection');
    process.exit(1);
  }
});
let done = false;

/** One request (Go's field order: id, is_cancel, then the one request kind); resolves to its response. */
function request(kind, body) {
  const id = String(nextId++);
  ws.send(`{"id":${JSON.stringify(id)},"is_cancel":false,${JSON.stringify(kind)}:${JSON.stringify(body)}}\n`);
  return new Promise((resolve, reject) => {
    handlers.set(id, (r) => {
      handlers.delete(id);
      if (r.error !== '') reject(new Error(r.error));
      else resolve(r);
    });
  });
}
const signalEntry = async (s) => (await request('signal_entry', { state: state(s) })).signal_entry.seq;
const barrier = (s, target) => (target === 0 ? Promise.resolve() : request('barrier', { state: state(s), target }));
const publish = async (t, payload) => (await request('publish', { topic: t, payload })).publish.seq;
const events = (payload) => publish(`${prefix}:run_events`, payload);

/** Subscribe: responses with this id keep coming, one per message, payloads as JSON text. */
function subscribe(t, count) {
  const id = String(nextId++);
  const got = [];
  return new Promise((resolve, reject) => {
    handlers.set(id, (r) => {
      if (r.error !== '') return reject(new Error(r.error));
      got.push(JSON.parse(r.subscribe));
      if (got.length === count) {
        handlers.delete(id);
        resolve(got);
      }
    });
    ws.send(`{"id":${JSON.stringify(id)},"is_cancel":false,"subscribe":{"topic":${JSON.stringify(t)}}}\n`);
  });
}

async function configureNetwork(shape, callbackState, enable = true) {
  // network.Config as encoding/json writes it: struct order, LinkShape durations in ns.
  const config = {
    network: 'default',
    IPv4: null,
    IPv6: null,
    enable,
    default: {
      latency: shape.latencyMs * 1e6,
      jitter: 0,
      bandwidth: 0,
      filter: 0,
      loss: 0,
      corrupt: 0,
      corrupt_corr: 0,
      reorder: 0,
      reorder_corr: 0,
      duplicate: 0,
      duplicate_corr: 0,
    },
    rules: null,
    callback_state: callbackState,
    routing_policy: '',
  };
  await publish(topic(`network:${hostname()}`), config);
  await barrier(callbackState, total);
}

function ping(ip, count) {
  try {
    const out = execFileSync('ping', ['-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', ip], {
      encoding: 'utf8',
    });
    const m = /= [\d.]+\/([\d.]+)\//.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function finish(outcome) {
  await events(outcome);
  done = true;
  ws.close();
}

// InitializedTestCaseFn's start-up.
await events({ stage_start_event: { name: 'network-initialized', group } });
if (env.TEST_SIDECAR === 'true') await barrier('network-initialized', total);
await events({ stage_end_event: { name: 'network-initialized', group } });
const seq = await signalEntry('initialized_global');
await signalEntry(`initialized_group_${group}`);

switch (params.mode) {
  case 'mixed': {
    await signalEntry('ready');
    await barrier('ready', total);
    await publish(topic('peers'), { name: `${group}-${seq}`, lang: 'go' });
    const peers = await subscribe(topic('peers'), total);
    await events({
      message_event: {
        message: `peers: ${peers
          .map((p) => p.lang)
          .sort()
          .join(',')}`,
      },
    });
    await finish({ success_event: { group } });
    break;
  }
  case 'fail':
    await finish({ failure_event: { group, error: 'failing as asked' } });
    break;
  case 'crash': {
    const stack = 'goroutine 1 [running]:\nmain.run()\n\t/plan/main.go:42 +0x1d';
    await events({
      crash_event: { group, error: 'runtime error: index out of range [3] with length 3', stacktrace: stack },
    });
    await finish({
      crash_event: { group, error: 'runtime error: index out of range [3] with length 3', stacktrace: '' },
    });
    break;
  }
  case 'silent':
    done = true;
    process.exit(0);
    break;
  case 'netem': {
    await configureNetwork({ latencyMs: 100 }, 'latency-set');
    await publish(topic('addresses'), { ip: env.TGC_DATA_IP });
    const others = (await subscribe(topic('addresses'), total)).map((a) => a.ip).filter((ip) => ip !== env.TGC_DATA_IP);
    const rtts = others.map((ip) => ping(ip, 5));
    await events({ message_event: { message: `rtt_ms ${rtts.join(' ')}` } });
    await signalEntry('measured');
    await barrier('measured', total);
    await configureNetwork({ latencyMs: 0 }, 'cut', false);
    const after = others.map((ip) => ping(ip, 2));
    await events({ message_event: { message: `after cut ${after.join(' ')}` } });
    const ok = rtts.every((r) => r !== undefined && r >= 195 && r <= 205) && after.every((r) => r === undefined);
    await finish(ok ? { success_event: { group } } : { failure_event: { group, error: `rtt ${rtts} after ${after}` } });
    break;
  }
  default:
    await finish({ failure_event: { group, error: `unknown mode ${params.mode}` } });
}
