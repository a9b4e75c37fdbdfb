import { Option, type Command } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { EXIT } from '../../model/exit-codes.js';
import type { CliIo } from '../io.js';
import { loadPlan, printDiagnostics, withImages, type PlanOptions } from '../load-plan.js';
import { collect, formatOption, PLAN_ARGUMENT } from './options.js';

interface RunFlags extends PlanOptions {
  target: string;
  dryRun?: boolean;
  out?: string;
  shaping?: boolean;
  runtimeImage?: string;
  namespace?: string;
  context?: string;
  image?: string[];
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
        'where to run: local processes, Docker Compose, a Kubernetes cluster (kubectl) or Nomad (nomad CLI)',
      )
        .choices(['local', 'compose', 'k8s', 'nomad'])
        .default('local'),
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
    .option('--dry-run', 'print every command the run would issue, in order, and run none')
    .option('--out <dir>', 'the run directory (default .tgc/runs/<run-id>); must not exist, or be empty')
    .option('--json', 'print only the final results JSON')
    .option('--namespace <ns>', 'k8s: run in this existing namespace (default: one created per run, deleted after)')
    .option('--context <ctx>', 'k8s: the kubeconfig context (default: the current one)')
    .option('--no-shaping', 'local target: plain processes on loopback, no namespaces, no root, shapes not applied')
    .action(async (file: string, opts: RunFlags) => {
      const result = loadPlan(file, opts, io);
      if (!result) return done(EXIT.invalid);
      const code = printDiagnostics(result, { ...opts, json: false }, io);
      if (code !== EXIT.ok) return done(code);
      const plan = withImages(result.plan!, opts.image ?? [], opts.target, io);
      if (!plan) return done(EXIT.invalid);
      // Loaded on demand: `tgc validate` and `tgc plan` never parse the targets.
      const { startRun } = await import('../start-run.js');
      done(await startRun(plan, { ...opts, version: pkg.version, planFile: file }, io));
    });
}
