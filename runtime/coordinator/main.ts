import { readFileSync, writeFileSync } from 'node:fs';
import type { PlanEvent } from '../../schema/ir.js';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../model/units.js';
import { Coordinator } from './coordinator.js';
import { EXIT } from '../../model/exit-codes.js';

export const COORDINATOR_USAGE = `Usage: tgc coordinator --instances N [options]

A standalone coordinator for one run: instances register with it, sync through it and report
their outcome to it (protocol: docs/protocol.md). Exits when the run ends: 0 if every instance
succeeded, 1 otherwise; prints the results JSON on stdout.

Options:
  --instances N          instances expected in the run (required)
  --port P               TCP port for the protocol and HTTP (default 5050; 0 picks a free one)
  --host H               address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --groups g1=n1,g2=n2   expected instances per group (must add up to N); others are refused
  --services s1=n1,…     service groups: their instances may attach (tgc sync), decide nothing
  --timeout D            run deadline, e.g. 2m or 90s; instances without an outcome time out
  --plan NAME            plan name reported to instances and in the results
  --run-id ID            run id (default: random)
  --agents               shaping agents will connect, one per instance
  --results FILE         also write the results JSON to FILE
  --linger D             keep serving /results this long after the run ends (default 5s)
  --exit-grace D         an instance whose connection closes without an outcome waits this long
                         for its driver to report how its process ended (default 0: a crash at once)
  --exit-zero KIND       exit code 0 without an outcome is a success (default) or a crash
  --on-failure WHAT      stop: a failure or a crash ends the run (default); continue: every
                         instance runs to its end, the run is decided from all their outcomes
  --events FILE          the plan's [[events]] schedule (JSON: the IR's events, or {"events": […]});
                         process actions go to the driver's connection
  -h, --help             show this help

HTTP on the same port: /healthz, /status, /results, /metrics (Prometheus), /outputs (outputs
shipped by shaping agents: PUT /outputs/<instance> a tar, GET it back).`;

export interface MainIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** `tgc coordinator …` and `node coordinator.mjs …`; resolves to the exit code. */
export async function coordinatorMain(argv: readonly string[], io: MainIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        instances: { type: 'string' },
        port: { type: 'string', default: '5050' },
        host: { type: 'string', default: '127.0.0.1' },
        groups: { type: 'string' },
        services: { type: 'string' },
        timeout: { type: 'string' },
        plan: { type: 'string' },
        'run-id': { type: 'string' },
        agents: { type: 'boolean', default: false },
        results: { type: 'string' },
        linger: { type: 'string', default: '5s' },
        'exit-grace': { type: 'string', default: '0s' },
        'exit-zero': { type: 'string', default: 'success' },
        'on-failure': { type: 'string', default: 'stop' },
        events: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr(`tgc coordinator: ${(err as Error).message}\n\n${COORDINATOR_USAGE}\n`);
    return EXIT.invalid;
  }
  if (values.help) {
    io.stdout(COORDINATOR_USAGE + '\n');
    return EXIT.ok;
  }
  const usage = (message: string) => {
    io.stderr(`tgc coordinator: ${message}\n`);
    return EXIT.invalid;
  };
  const instances = Number(values.instances);
  if (!values.instances || !Number.isInteger(instances) || instances < 1)
    return usage('--instances N is required, N a positive integer');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return usage(`--port ${values.port} is not a port number`);
  const groups = typeof values.groups === 'string' ? groupCounts(values.groups) : undefined;
  if (typeof groups === 'string') return usage(`--groups: "${groups}" is not group=count`);
  if (groups) {
    const sum = Object.values(groups).reduce((a, b) => a + b, 0);
    if (sum !== instances) return usage(`--groups add up to ${sum}, --instances is ${instances}`);
  }
  const services = typeof values.services === 'string' ? groupCounts(values.services) : undefined;
  if (typeof services === 'string') return usage(`--services: "${services}" is not group=count`);
  const timeoutMs = typeof values.timeout === 'string' ? parseDuration(values.timeout) : undefined;
  if (values.timeout !== undefined && timeoutMs === undefined)
    return usage(`--timeout ${values.timeout}: write a duration such as 2m or 90s`);
  const lingerMs = parseDuration(String(values.linger));
  if (lingerMs === undefined) return usage(`--linger ${values.linger}: write a duration such as 5s`);
  const exitGraceMs = parseDuration(String(values['exit-grace']));
  if (exitGraceMs === undefined) return usage(`--exit-grace ${values['exit-grace']}: write a duration such as 3s`);
  const exitZero = values['exit-zero'];
  if (exitZero !== 'success' && exitZero !== 'crash') return usage(`--exit-zero must be success or crash`);
  const onFailure = values['on-failure'];
  if (onFailure !== 'stop' && onFailure !== 'continue') return usage(`--on-failure must be stop or continue`);
  let events: PlanEvent[] | undefined;
  if (typeof values.events === 'string') {
    try {
      // The events, or (as tgc writes them) an object with the events and a generated-file header.
      const parsed = JSON.parse(readFileSync(values.events, 'utf8')) as unknown;
      const list = Array.isArray(parsed) ? parsed : (parsed as { events?: unknown } | null)?.events;
      if (!Array.isArray(list)) return usage(`--events ${values.events}: no JSON array of events in it`);
      events = list as PlanEvent[];
    } catch (err) {
      return usage(`--events ${values.events}: ${(err as Error).message}`);
    }
  }

  const coordinator = new Coordinator({
    instances,
    ...(groups && { groups }),
    ...(services && { services }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(typeof values.plan === 'string' && { plan: values.plan }),
    ...(typeof values['run-id'] === 'string' && { runId: values['run-id'] }),
    agents: values.agents === true,
    // Every instance and its shaping agent hold a connection, drivers and tgc sync calls some more.
    maxConnections: Math.max(
      20_000,
      2 * (instances + Object.values(services ?? {}).reduce((a, b) => a + b, 0)) + 1_000,
    ),
    exitGraceMs,
    exitZero,
    onFailure,
    ...(events && { events }),
  });
  let bound: number;
  try {
    bound = await coordinator.listen(port, String(values.host));
  } catch (err) {
    io.stderr(`tgc coordinator: cannot listen on ${values.host}:${port}: ${(err as Error).message}\n`);
    return EXIT.environment;
  }
  io.stderr(
    `tgc coordinator: run ${coordinator.runId} listening on ${values.host}:${bound}, waiting for ${instances} ` +
      `instance${instances === 1 ? '' : 's'}\n`,
  );

  const interrupted = new Promise<'interrupted'>((resolve) => {
    process.once('SIGINT', () => resolve('interrupted'));
    process.once('SIGTERM', () => resolve('interrupted'));
  });
  const ended = await Promise.race([coordinator.ended, interrupted]);
  if (ended === 'interrupted') {
    await coordinator.close();
    io.stderr('tgc coordinator: interrupted\n');
    return EXIT.interrupted;
  }
  const json = JSON.stringify(ended, null, 2) + '\n';
  io.stdout(json);
  if (typeof values.results === 'string') writeFileSync(values.results, json);
  io.stderr(`tgc coordinator: run ${ended.outcome}${ended.reason ? `: ${ended.reason}` : ''}\n`);
  // Unref'd: a SIGTERM during the linger ends the process now, not when the timer would have.
  await Promise.race([new Promise((r) => setTimeout(r, lingerMs).unref()), interrupted]);
  await coordinator.close();
  return ended.outcome === 'success' ? EXIT.ok : EXIT.runFailed;
}

/** `g1=n1,g2=n2` as counts per group; the part that is not `group=count` (n ≥ 1) when one is not. */
function groupCounts(text: string): Record<string, number> | string {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^([^=\s]+)=([0-9]+)$/.exec(part.trim());
    if (!m || Number(m[2]) < 1) return part;
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
