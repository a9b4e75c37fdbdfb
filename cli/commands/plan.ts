import type { Command } from 'commander';
import { EXIT } from '../../model/exit-codes.js';
import { planJson, planTable } from '../format-plan.js';
import type { CliIo } from '../io.js';
import { loadPlan, printDiagnostics, singleRun, type PlanOptions } from '../load-plan.js';
import { formatOption, PLAN_ARGUMENT, testgroundOptions } from './options.js';

/** `tgc plan`: the expanded plan, as a table or as the IR in JSON. */
export function planCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('plan')
    .description('print the expanded plan: groups, instance counts, what runs, params and network')
    .argument(...PLAN_ARGUMENT)
    .addOption(formatOption())
    .option('--json', 'print the normalized plan and every instance as JSON')
    .addOption(testgroundOptions()[0]!)
    .addOption(testgroundOptions()[1]!)
    .action((file: string, opts: PlanOptions) => {
      const result = loadPlan(file, opts, io);
      if (!result) return done(EXIT.invalid);
      const code = printDiagnostics(result, opts, io);
      if (code === EXIT.ok && !singleRun(result, opts, io)) return done(EXIT.invalid);
      done(code);
      if (code === EXIT.ok) io.stdout(opts.json ? planJson(result.plan!) : planTable(result.plan!));
    });
}
