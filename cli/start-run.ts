import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../schema/ir.js';
import { EnvironmentError } from '../targets/driver/environment-error.js';
import { TARGETS } from '../targets/registry.js';
import type { RunOptions, TargetName } from '../targets/target.js';
import type { PlannedBuilds } from '../targets/build/build-plan.js';
import { describeEvent } from '../model/describe-event.js';
import { EXIT } from '../model/exit-codes.js';
import type { CliIo } from './io.js';

export interface StartRunOptions {
  readonly target: string;
  readonly dryRun?: boolean;
  readonly out?: string;
  readonly json?: boolean;
  /** false with --no-shaping: plain processes on loopback, no namespaces, no root, no shaping. */
  readonly shaping?: boolean;
  readonly version: string;
  /** The plan file as given (for headers and messages). */
  readonly planFile: string;
  readonly runtimeImage?: string;
  readonly namespace?: string;
  readonly context?: string;
  /** `--push REGISTRY`: images tgc builds go there (the cluster targets need it). */
  readonly push?: string;
  /** `--no-cache`: build even what is cached. */
  readonly noCache?: boolean;
  /** swarm: `--node-host NAME=URL`, repeatable. */
  readonly nodeHost?: readonly string[];
  /** local: `--busy-poll`. */
  readonly busyPoll?: boolean;
}

/** A run id that sorts by time and is unique: `20261125-015200-3fa9c1`. */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

/**
 * `tgc run`, the same for every target: what the target cannot express (exit 2), the run id and
 * directory, `--dry-run` (the target's steps), its environment (exit 3), then its driver.
 * Resolves to the exit code.
 */
export async function startRun(plan: Plan, o: StartRunOptions, io: CliIo): Promise<number> {
  const target = await TARGETS[o.target as TargetName]();
  const problems = target.check(plan);
  if (problems.length > 0) {
    for (const p of problems) io.stderr(`tgc: ${p.message}\n`);
    return EXIT.invalid;
  }
  const nodeHosts: Record<string, string> = {};
  for (const spec of o.nodeHost ?? []) {
    const m = /^([^=\s]+)=(\S+)$/.exec(spec);
    if (!m) {
      io.stderr(
        `tgc: --node-host ${JSON.stringify(spec)}: write NAME=URL (a node's hostname, its Docker engine's URL)\n`,
      );
      return EXIT.invalid;
    }
    nodeHosts[m[1]!] = m[2]!;
  }
  if (o.busyPoll === true && o.target !== 'local') {
    io.stderr(`tgc: --busy-poll is for the local target's native wire; ${o.target} shapes inside its agents\n`);
    return EXIT.invalid;
  }
  const runId = newRunId();
  const cwd = io.cwd ?? '.';
  const outDir = o.out ?? join(cwd, '.tgc', 'runs', runId);
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    io.stderr(`tgc: ${outDir} already exists and is not empty; give --out a new directory (nothing was run)\n`);
    return EXIT.invalid;
  }
  const options: RunOptions = {
    plan,
    planFile: o.planFile,
    version: o.version,
    runId,
    outDir,
    cwd,
    env: io.env ?? {},
    isRoot: io.isRoot === true,
    json: o.json === true,
    io: { stdout: io.stdout, stderr: io.stderr, tty: io.tty === true && o.json !== true },
    signal: io.signal ?? new AbortController().signal,
    loopback: o.shaping === false,
    ...(o.runtimeImage !== undefined && { runtimeImage: o.runtimeImage }),
    ...(o.namespace !== undefined && { namespace: o.namespace }),
    ...(o.context !== undefined && { context: o.context }),
    ...(Object.keys(nodeHosts).length > 0 && { nodeHosts }),
    ...(o.busyPoll === true && { busyPoll: true }),
  };
  // The build step: what the plan's builds make, before anything starts (a failed build starts nothing).
  const env = io.env ?? {};
  const needsBuild = plan.groups.some((g) => g.build);
  let builds: PlannedBuilds | undefined;
  if (needsBuild) {
    try {
      const { planPlanBuilds } = await import('../targets/build/build-plan.js');
      builds = await planPlanBuilds(plan, {
        target: o.target as TargetName,
        planFile: o.planFile,
        cwd,
        env,
        stderr: io.stderr,
        ...(o.push !== undefined && { push: o.push }),
        ...(o.noCache && { noCache: true }),
        ...(io.signal && { signal: io.signal }),
        ...(o.dryRun && { dryRun: true }),
      });
    } catch (err) {
      if (!(err instanceof EnvironmentError)) throw err;
      io.stderr(`tgc: ${err.message}\n`);
      return EXIT.environment;
    }
  }
  if (o.dryRun) {
    if (builds) io.stdout(['# the build step (tgc build):', ...builds.steps].join('\n') + '\n');
    io.stdout(target.steps({ ...options, plan: builds?.planned ?? plan }).join('\n') + '\n');
    // The schedule runs inside the coordinator: no command of its own, but part of what happens.
    if (plan.events) {
      io.stdout("# the coordinator's schedule (docs/composition.md, Events):\n");
      for (const e of plan.events) {
        const d = describeEvent(e);
        io.stdout(`#   ${e.name}: ${d.when} → ${d.action}\n`);
      }
    }
    return EXIT.ok;
  }
  const missing = target.environment(options);
  if (missing) {
    io.stderr(`tgc: ${missing}\n`);
    return EXIT.environment;
  }
  // What the run starts: the plan, with the images and programs its builds made.
  let runPlan = plan;
  if (builds) {
    try {
      const t0 = Date.now();
      const done = await builds.run();
      const cached = done.built.filter((b) => b.cached).length;
      const n = builds.jobs.length;
      const which = cached === done.built.length ? 'all' : cached === 0 ? 'none' : 'some';
      // One line a benchmark (bench/build.ts) and a person can read: what the build step cost.
      io.stderr(
        `tgc: build step: ${n} build${n === 1 ? '' : 's'} for ${o.target}, ${which} cached, ` +
          `${((Date.now() - t0) / 1000).toFixed(2)} s\n`,
      );
      runPlan = done.plan;
    } catch (err) {
      if (!(err instanceof EnvironmentError)) throw err;
      io.stderr(`tgc: ${err.message}\n`);
      return io.signal?.aborted ? EXIT.interrupted : EXIT.environment;
    }
  }
  return runToEnd(() => target.run({ ...options, plan: runPlan }), outDir, io);
}

/**
 * A run's driver, to its exit code: an `EnvironmentError` is exit 3 with its message; a run that
 * ended without results leaves no run directory behind (it did not exist, or was empty, before).
 */
export async function runToEnd(run: () => Promise<number>, outDir: string, io: CliIo): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (!existsSync(join(outDir, 'results.json'))) rmSync(outDir, { recursive: true, force: true });
    if (err instanceof EnvironmentError) {
      io.stderr(`tgc: ${err.message}\n`);
      return EXIT.environment;
    }
    throw err;
  }
}
