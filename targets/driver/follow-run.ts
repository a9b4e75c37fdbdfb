import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../../runtime/coordinator/coordinator.js';
import type { Plan } from '../../schema/ir.js';
import { instanceLayout } from '../../model/instance-layout.js';
import type { RuntimeBundle } from '../target.js';
import { buildReport, junitXml, outcomeTable, progressLine, type CoordinatorStatus } from './run-report.js';

/** What a container target's driver prints to. */
export interface DriverIo {
  readonly stdout: (t: string) => void;
  readonly stderr: (t: string) => void;
  readonly tty: boolean;
}

/** What every container target's driver is given. */
export interface DriverOptions {
  readonly plan: Plan;
  readonly planFile: string;
  readonly version: string;
  readonly runId: string;
  readonly outDir: string;
  readonly runtime: RuntimeBundle;
  readonly runtimeImage?: string;
  readonly json: boolean;
  readonly io: DriverIo;
  readonly signal: AbortSignal;
}

/** An environment problem, with the fix: the CLI prints it and exits 3. */
export class DriverEnvironmentError extends Error {}

export interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; never throws (127: it could not be started). */
export function exec(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { env: env ?? process.env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as unknown as { code: number }).code
          : 127
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function getJson(url: string): Promise<unknown> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.json() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Follows a coordinator over HTTP until the run ends: the live progress line (a terminal) or
 * progress lines when they change, then `/results`. Resolves to undefined when interrupted.
 */
export async function followCoordinator(
  url: string,
  o: { plan: Plan; io: DriverIo; json: boolean; interrupted: () => boolean; what: string },
): Promise<Results | undefined> {
  // The coordinator's deadline ends the run; this one only guards against a coordinator that never answers.
  const giveUp = Date.now() + o.plan.timeoutMs + 120_000;
  let last = '';
  for (;;) {
    if (o.interrupted()) return undefined;
    if (Date.now() > giveUp)
      throw new DriverEnvironmentError(
        `the coordinator at ${url} did not end the run within its deadline; see ${o.what}`,
      );
    const status = await getJson(`${url}/status`);
    if (status && (status as { state?: string }).state === 'ended') {
      const results = (await getJson(`${url}/results`)) as Results | undefined;
      if (results) {
        if (o.io.tty && !o.json) o.io.stderr('\r\x1b[K');
        return results;
      }
    } else if (status && !o.json) {
      const line = progressLine(status as CoordinatorStatus, o.plan.totalInstances);
      if (o.io.tty) o.io.stderr(`\r\x1b[K${line}`);
      else if (line !== last) o.io.stderr(`tgc: ${line}\n`);
      last = line;
    }
    await sleep(250);
  }
}

/** Writes results.json and junit.xml into the run directory, prints the outcome; resolves to the exit code. */
export function finishRun(o: {
  plan: Plan;
  version: string;
  target: string;
  backend: string;
  outDir: string;
  startedAt: Date;
  durationMs: number;
  results: Results;
  exits: ReadonlyMap<string, number | null>;
  json: boolean;
  io: DriverIo;
  interrupted: boolean;
  /** Data addresses where the target fixed them (compose); else what the instances registered. */
  addresses?: ReadonlyMap<string, string>;
}): number {
  const registered = new Map(o.results.instances.map((i) => [i.name, i.data_ip]));
  const names = instanceLayout(o.plan).map((p) => ({
    name: p.name,
    group: p.group,
    ip: o.addresses?.get(p.name) ?? registered.get(p.name) ?? null,
  }));
  const report = buildReport({
    version: o.version,
    plan: o.plan,
    target: o.target,
    backend: o.backend,
    startedAt: o.startedAt,
    durationMs: o.durationMs,
    results: o.results,
    exits: o.exits,
    names,
  });
  writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(o.outDir, 'junit.xml'), junitXml(report));
  if (o.json) o.io.stdout(JSON.stringify(report, null, 2) + '\n');
  else o.io.stdout('\n' + outcomeTable(report) + `results: ${join(o.outDir, 'results.json')}\n`);
  if (o.interrupted) return 130;
  return report.outcome === 'success' ? 0 : 1;
}

export interface GuardOptions {
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
  /** Saves what can be saved (logs, exit codes); may fail. */
  readonly collect: () => Promise<unknown>;
  /** Removes everything the run created; never throws. */
  readonly teardown: () => Promise<void>;
  /** What tearing down means here, for the Ctrl-C message. */
  readonly stopping: string;
}

/**
 * A driver's run with its cleanup guaranteed: when the body throws, and when it calls `stop()`
 * after Ctrl-C (→ 130), what ran is collected and torn down before the driver returns.
 */
export async function guarded(
  o: GuardOptions,
  body: (h: { interrupted: () => boolean; stop: () => Promise<number> }) => Promise<number>,
): Promise<number> {
  let interrupted = false;
  const onAbort = () => (interrupted = true);
  o.signal.addEventListener('abort', onAbort, { once: true });
  const stop = async () => {
    o.say(`tgc: interrupted; ${o.stopping}`);
    await o.collect().catch(() => undefined);
    await o.teardown();
    return 130;
  };
  try {
    return await body({ interrupted: () => interrupted, stop });
  } catch (err) {
    await o.collect().catch(() => undefined);
    await o.teardown();
    throw err;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}
