import { CoordinatorError, parseAddress, ProtocolClient } from '../../protocol/client.js';
import { EXIT } from '../../model/exit-codes.js';

// `tgc sync …`: one request of a shell script to the coordinator, as the instance the script
// runs in (TGC_INSTANCE). Its own module, loaded alone, so that it starts fast: no compiler, no
// commander. docs/sync-cli.md lists the subcommands.

export const SYNC_USAGE = `Usage: tgc sync <command> [arguments]  (inside an instance: tgc sets what it needs)

  signal STATE                     signal STATE; prints its count
  barrier STATE [TARGET]           wait until STATE has TARGET signals (default: every instance)
  signal-wait STATE [TARGET]       both; prints the count after this signal
  publish TOPIC JSON               append JSON to TOPIC; prints its sequence number
  subscribe TOPIC --take N         prints TOPIC's first N messages, one JSON per line
  wait-network                     wait until this instance's network is shaped
  configure SHAPE-JSON [--callback STATE] [--to NAME]
                                   change this instance's egress shape, e.g. '{"latency":"100ms"}';
                                   --to: only towards that instance or group
  record NAME VALUE [UNIT]         record a metric value
  message TEXT                     a message kept with this instance's results
  outcome success|failure [REASON] report this instance's outcome

Exit codes: 0 done · 1 the run has ended · 2 usage, or the coordinator refused · 3 no coordinator.`;

export interface SyncIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

type Step = (c: ProtocolClient, instances: number) => Promise<string | undefined>;

function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined) throw new UsageError(`${what} is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not JSON: ${text}`);
  }
}

class UsageError extends Error {}

function count(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n))
    throw new UsageError(`${what} must be a whole number, not ${text}`);
  return n;
}

/** What each subcommand asks of the coordinator, and what it prints. */
function plan(args: readonly string[]): Step {
  const [cmd, a, b, c] = args;
  const need = (v: string | undefined, what: string) => {
    if (v === undefined || v === '') throw new UsageError(`${cmd}: ${what} is missing`);
    return v;
  };
  switch (cmd) {
    case 'signal': {
      const state = need(a, 'STATE');
      return async (cl) => String((await cl.request('signal', { state })).count);
    }
    case 'barrier':
    case 'signal-wait': {
      const state = need(a, 'STATE');
      const target = count(b, 'TARGET');
      return async (cl, instances) => {
        const n = cmd === 'signal-wait' ? (await cl.request('signal', { state })).count : undefined;
        await cl.request('barrier', { state, target: target ?? instances });
        return n === undefined ? undefined : String(n);
      };
    }
    case 'publish': {
      const topic = need(a, 'TOPIC');
      const payload = parseJson(b, 'publish: JSON');
      return async (cl) => String((await cl.request('publish', { topic, payload })).seq);
    }
    case 'subscribe': {
      const topic = need(a, 'TOPIC');
      if (b !== '--take') throw new UsageError('subscribe: give --take N');
      const take = count(c, '--take N') ?? 0;
      return (cl) =>
        new Promise((resolve, reject) => {
          const got: string[] = [];
          if (take === 0) return resolve('');
          messages = (frame) => {
            if (frame.topic !== topic) return;
            got.push(JSON.stringify(frame.payload));
            if (got.length === take) resolve(got.join('\n'));
          };
          cl.request('subscribe', { topic }).catch(reject);
        });
    }
    case 'wait-network':
      return async (cl) => void (await cl.request('network_wait_ready'));
    case 'configure': {
      const shape = parseJson(a, 'configure: SHAPE-JSON');
      const options: Record<string, string> = {};
      for (let i = 2; i < args.length; i += 2) {
        const [flag, value] = [args[i], args[i + 1]];
        if ((flag !== '--callback' && flag !== '--to') || !value)
          throw new UsageError('configure: the options are --callback STATE and --to NAME');
        options[flag === '--to' ? 'to' : 'callback_state'] = value;
      }
      return async (cl) => void (await cl.request('network_configure', { shape, ...options }));
    }
    case 'record': {
      const name = need(a, 'NAME');
      const value = Number(need(b, 'VALUE'));
      if (!Number.isFinite(value)) throw new UsageError(`record: VALUE must be a number, not ${b}`);
      return async (cl) => void (await cl.request('record', { name, value, unit: c ?? '' }));
    }
    case 'message': {
      const text = need(a, 'TEXT');
      return async (cl) => void (await cl.request('message', { text }));
    }
    case 'outcome': {
      if (a !== 'success' && a !== 'failure') throw new UsageError('outcome: success or failure');
      return async (cl) => void (await cl.request('outcome', { status: a, ...(b !== undefined && { reason: b }) }));
    }
    default:
      throw new UsageError(cmd ? `unknown command "${cmd}"` : 'a command is missing');
  }
}

/** Topic messages go to the subscribe step that waits for them. */
let messages: (frame: Readonly<Record<string, unknown>>) => void = () => undefined;

export async function syncMain(args: readonly string[], io: SyncIo): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h' || args.length === 0) {
    (args.length === 0 ? io.stderr : io.stdout)(SYNC_USAGE + '\n');
    return args.length === 0 ? EXIT.invalid : EXIT.ok;
  }
  let step: Step;
  try {
    step = plan(args);
  } catch (err) {
    io.stderr(`tgc sync: ${(err as Error).message}\n\n${SYNC_USAGE}\n`);
    return EXIT.invalid;
  }
  const env = io.env;
  const address =
    env.TGC_COORDINATOR ?? (env.SYNC_SERVICE_HOST ? `${env.SYNC_SERVICE_HOST}:${env.SYNC_SERVICE_PORT ?? '5050'}` : '');
  if (!address || !env.TGC_INSTANCE || !env.TGC_GROUP) {
    io.stderr('tgc sync: run it inside an instance: TGC_COORDINATOR, TGC_INSTANCE and TGC_GROUP are not all set\n');
    return EXIT.environment;
  }
  let client: ProtocolClient;
  try {
    const { host, port } = parseAddress(address);
    const socket = await ProtocolClient.socket(host, port, 10_000);
    client = new ProtocolClient(socket, {
      onEvent: (frame) => frame.event === 'message' && messages(frame),
      onClose: () => undefined,
    });
  } catch (err) {
    io.stderr(`tgc sync: ${(err as Error).message}\n`);
    return EXIT.environment;
  }
  try {
    const identity = await client.request('register', {
      role: 'attach',
      instance: env.TGC_INSTANCE,
      group: env.TGC_GROUP,
      ...(env.TGC_DATA_IP && { data_ip: env.TGC_DATA_IP }),
    });
    const out = await step(client, identity.instances as number);
    if (out) io.stdout(out + '\n');
    return EXIT.ok;
  } catch (err) {
    const code = err instanceof CoordinatorError ? err.code : '';
    io.stderr(`tgc sync: ${(err as Error).message}\n`);
    return code === 'run_ended' ? EXIT.runFailed : code === 'closed' ? EXIT.environment : EXIT.invalid;
  } finally {
    client.destroy();
  }
}
