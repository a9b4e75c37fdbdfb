import { join } from 'node:path';
import { Option, type Command } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { EXIT } from '../../model/exit-codes.js';
import type { CliIo } from '../io.js';
import { loadRuns, withImages, type PlanOptions } from '../load-plan.js';
import { runnerTarget } from '../../compiler/testground/compile-testground.js';
import { collect, formatOption, PLAN_ARGUMENT, testgroundOptions } from './options.js';

interface RunFlags extends PlanOptions {
  target?: string;
  dryRun?: boolean;
  out?: string;
  shaping?: boolean;
  runtimeImage?: string;
  namespace?: string;
  context?: string;
  image?: string[];
  push?: string;
  cache?: boolean;
  nodeHost?: string[];
  busyPoll?: boolean;
}

/** `tgc run`: start, follow, collect, tear down, on any target. */
export function runCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('run')
    .description(
      'run a plan: start every instance with the coordinator and the network shaping, follow it, collect the ' +
        'results, tear it all down',
    )
    .argument(...PLAN_ARGUMENT)
    .addOption(formatOption())
    .addOption(
      new Option(
        '--target <target>',
        'where to run: local processes, Docker Compose, a Kubernetes cluster (kubectl) or Nomad (nomad CLI) ' +
          "(default: local, or what a Testground composition's runner names)",
      ).choices(['local', 'compose', 'swarm', 'k8s', 'nomad']),
    )
    .option(
      '--runtime-image <image>',
      "container targets: the coordinator's and shaping agent's image (default run.runtime_image)",
    )
    .option(
      '--image <[group=]image>',
      "container targets: an instance image instead of the plan's, for every group or one (repeatable)",
      collect,
      [],
    )
    .option('--no-cache', 'build the groups that build even when their image or program is cached')
    .option('--push <registry>', 'push the images tgc builds to this registry and run them from there (k8s, nomad)')
    .option('--dry-run', 'print every command the run would issue, in order, and run none')
    .option('--out <dir>', 'the run directory (default .tgc/runs/<run-id>); must not exist, or be empty')
    .option('--json', 'print only the final results JSON')
    .option('--namespace <ns>', 'k8s: run in this existing namespace (default: one created per run, deleted after)')
    .option('--context <ctx>', 'k8s: the kubeconfig context (default: the current one)')
    .option(
      '--node-host <name=url>',
      "swarm: a node's own Docker engine (its hostname = DOCKER_HOST-style URL), to load the run's images " +
        'into it and carry out process events there (repeatable; docs/targets/swarm.md)',
      collect,
      [],
    )
    .option('--no-shaping', 'local target: plain processes on loopback, no namespaces, no root, shapes not applied')
    .option(
      '--busy-poll',
      'local target: the userspace wire polls for packets instead of sleeping between them (but under a flood): ' +
        'about 0.05 ms less per round trip, one CPU core kept busy while the run lasts (docs/network.md)',
    )
    .addOption(testgroundOptions()[0]!)
    .addOption(testgroundOptions()[1]!)
    .action(async (file: string, opts: RunFlags) => {
      // A Testground composition's [[runs]] are one tgc run each, in id order (or the one --run
      // names); the exit code is the worst of them.
      const loaded = loadRuns(file, opts, io, opts.target);
      if ('code' in loaded) return done(loaded.code);
      const runs = loaded.plans;
      let worst: number = EXIT.ok;
      for (const [i, { run, plan: loadedPlan }] of runs.entries()) {
        const target = opts.target ?? runnerTarget(loadedPlan.testground?.runner) ?? 'local';
        const plan = withImages(loadedPlan, opts.image ?? [], target, io);
        if (!plan) return done(EXIT.invalid);
        if (runs.length > 1) io.stderr(`tgc: run ${i + 1} of ${runs.length}: the composition's run "${run}"\n`);
        // Loaded on demand: `tgc validate` and `tgc plan` never parse the targets.
        const { startRun } = await import('../start-run.js');
        // Several runs, one --out: each run gets a directory of its own inside it.
        const out = opts.out !== undefined && runs.length > 1 ? join(opts.out, String(run)) : opts.out;
        const code2 = await startRun(
          plan,
          {
            ...opts,
            target,
            version: pkg.version,
            planFile: file,
            ...(out !== undefined && { out }),
            ...(opts.cache === false && { noCache: true }),
          },
          io,
        );
        if (code2 === EXIT.interrupted) return done(code2);
        worst = Math.max(worst, code2);
      }
      done(worst);
    });
}
