import { Option, type Command } from 'commander';
import { EXIT } from '../../model/exit-codes.js';
import type { CliIo } from '../io.js';
import { loadPlan, singleRun, withImages, type PlanOptions } from '../load-plan.js';
import type { CompileOptions } from '../write-deployment.js';
import { collect, formatOption, PLAN_ARGUMENT, testgroundOptions } from './options.js';

/** `tgc compile`: a plan's deployment for an orchestrator, written or checked for freshness. */
export function compileCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('compile')
    .description(
      'write the deployment of a plan for an orchestrator: compose.yaml, Kubernetes manifests or a Nomad job, ' +
        'with the runtime embedded',
    )
    .argument(...PLAN_ARGUMENT)
    .addOption(formatOption())
    .addOption(
      new Option('--target <target>', 'the orchestrator')
        .choices(['compose', 'swarm', 'k8s', 'nomad'])
        .makeOptionMandatory(),
    )
    .option('-o, --out <dir>', 'output directory, replaced as a whole (default deploy/<target>)')
    .option('--check', 'write nothing; exit 1 with a unified diff when the directory is stale, 0 when fresh')
    .option(
      '--runtime-image <image>',
      "the coordinator's and shaping agent's image (default run.runtime_image, or tgc-runtime:<version>)",
    )
    .option(
      '--image <[group=]image>',
      "an instance image instead of the plan's: for every group, or for one (repeatable)",
      collect,
      [],
    )
    .addOption(
      new Option(
        '--shaping <backend>',
        'compose: the backend for plans with shaping = "auto" (default userspace, which works on every kernel)',
      ).choices(['kernel', 'userspace']),
    )
    .option(
      '--push <registry>',
      "build the plan's images, push them to this registry and name them there (what k8s and nomad need for " +
        'groups that build)',
    )
    .addOption(testgroundOptions()[0]!)
    .addOption(testgroundOptions()[1]!)
    .action(async (file: string, opts: PlanOptions & CompileOptions) => {
      let result = loadPlan(file, opts, io, opts.target);
      if (!result) return done(EXIT.invalid);
      if (result.plan && !singleRun(result, opts, io)) return done(EXIT.invalid);
      if (result.plan) {
        const plan = withImages(result.plan, opts.image ?? [], opts.target, io);
        if (!plan) return done(EXIT.invalid);
        result = { ...result, plan };
      }
      // Loaded on demand: `tgc validate` and `tgc plan` never parse the targets.
      const { writeDeployment } = await import('../write-deployment.js');
      done(await writeDeployment(file, result, opts, io));
    });
}
