import { Option, type Command } from 'commander';
import { runnerTarget } from '../../compiler/testground/compile-testground.js';
import { EXIT } from '../../model/exit-codes.js';
import type { Plan } from '../../schema/ir.js';
import type { TargetName } from '../../targets/target.js';
import type { CliIo } from '../io.js';
import { loadRuns, type PlanOptions } from '../load-plan.js';
import { collect, formatOption, PLAN_ARGUMENT, testgroundOptions } from './options.js';

interface BuildFlags extends PlanOptions {
  target?: TargetName;
  group?: string[];
  cache?: boolean;
  push?: string;
}

/** `tgc build`: every group that builds, built once per distinct build, cached by its inputs. */
export function buildCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('build')
    .description(
      "build what the plan's groups run: images (docker build; Testground's docker:go, docker:generic, " +
        'docker:node) or, for the local target, Go programs (go build; exec:go). Cached by the hash of their inputs',
    )
    .argument(...PLAN_ARGUMENT)
    .addOption(formatOption())
    .addOption(
      new Option(
        '--target <target>',
        'what the builds are for: Go programs for local, images for the others (default: what a Testground ' +
          "composition's runner names, else compose when a group builds an image, else local)",
      ).choices(['local', 'compose', 'swarm', 'k8s', 'nomad']),
    )
    .option('--group <id>', 'build this group only (repeatable)', collect, [])
    .option('--no-cache', 'build even what is cached')
    .option('--push <registry>', 'push the images to this registry (host[:port][/path]) as REGISTRY/<tag>')
    .option('--json', 'print what each group got as JSON')
    .addOption(testgroundOptions()[0]!)
    .addOption(testgroundOptions()[1]!)
    .action(async (file: string, opts: BuildFlags) => {
      // A Testground composition's runs share its groups: each run's builds, the same ones cached.
      const loaded = loadRuns(file, opts, io, opts.target);
      if ('code' in loaded) return done(loaded.code);
      const runs = loaded.plans;
      const rows: Record<string, unknown>[] = [];
      for (const { run, plan } of runs) {
        const unknown = (opts.group ?? []).filter((g) => !plan.groups.some((x) => x.id === g));
        if (unknown.length > 0) {
          io.stderr(
            `tgc: --group ${unknown.join(', ')}: the plan has no such group (groups: ` +
              `${plan.groups.map((g) => g.id).join(', ')})\n`,
          );
          return done(EXIT.invalid);
        }
        const target = opts.target ?? defaultTarget(plan);
        const { planPlanBuilds } = await import('../../targets/build/build-plan.js');
        const { EnvironmentError } = await import('../../targets/driver/environment-error.js');
        try {
          const builds = await planPlanBuilds(plan, {
            target,
            planFile: file,
            cwd: io.cwd ?? '.',
            env: io.env ?? {},
            stderr: io.stderr,
            ...(opts.group && opts.group.length > 0 && { groups: opts.group }),
            ...(opts.cache === false && { noCache: true }),
            ...(opts.push !== undefined && { push: opts.push }),
            ...(io.signal && { signal: io.signal }),
          });
          if (builds.jobs.length === 0) io.stderr(`tgc: nothing to build for ${target}\n`);
          const { built } = await builds.run();
          for (const b of built) rows.push({ ...(runs.length > 1 && { run }), ...b });
        } catch (err) {
          if (!(err instanceof EnvironmentError)) throw err;
          io.stderr(`tgc: ${err.message}\n`);
          return done(io.signal?.aborted ? EXIT.interrupted : EXIT.environment);
        }
      }
      if (opts.json) io.stdout(JSON.stringify(rows, null, 2) + '\n');
      else {
        for (const r of rows) {
          const id = String(r.id ?? '').replace(/^sha256:/, '');
          const what = r.program ? `program ${String(r.program)}` : `image ${String(r.image)} ${id.slice(0, 12)}`;
          const run = r.run !== undefined ? `${String(r.run)}/` : '';
          io.stdout(`${run}${String(r.group)}  ${what}${r.cached ? '  (cached)' : ''}\n`);
        }
      }
      done(EXIT.ok);
    });
}

/** Without --target: a Testground runner's target, else images when a group builds one, else programs. */
function defaultTarget(plan: Plan): TargetName {
  const runner = runnerTarget(plan.testground?.runner);
  if (runner) return runner as TargetName;
  return plan.groups.some((g) => g.build && g.build.kind !== 'go') ? 'compose' : 'local';
}
