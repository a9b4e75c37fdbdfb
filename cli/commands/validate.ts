import type { Command } from 'commander';
import { EXIT } from '../../model/exit-codes.js';
import type { CliIo } from '../io.js';
import { loadPlan, printDiagnostics, type PlanOptions } from '../load-plan.js';
import { formatOption, PLAN_ARGUMENT, testgroundOptions } from './options.js';

/** `tgc validate`: every problem, sorted; `file: ok (…)` when there is none. */
export function validateCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('validate')
    .description('parse and check a plan; print every problem as file:line:col: error[CODE]: message')
    .argument(...PLAN_ARGUMENT)
    .addOption(formatOption())
    .option('--json', 'print the diagnostics as JSON on stdout')
    .addOption(testgroundOptions()[0]!)
    .addOption(testgroundOptions()[1]!)
    .action((file: string, opts: PlanOptions) => {
      const result = loadPlan(file, opts, io);
      if (!result) return done(EXIT.invalid);
      // A Testground composition's other runs are plans too: each is checked, each problem said once.
      const seen = new Set(result.diagnostics.items.map((d) => JSON.stringify(d)));
      for (const run of opts.run === undefined ? (result.testground?.runs.slice(1) ?? []) : []) {
        for (const d of loadPlan(file, { ...opts, run }, io)?.diagnostics.items ?? []) {
          if (!seen.has(JSON.stringify(d))) (result.diagnostics.items.push(d), seen.add(JSON.stringify(d)));
        }
      }
      const code = printDiagnostics(result, opts, io);
      done(code);
      if (code !== EXIT.ok) return;
      const plan = result.plan!;
      if (opts.json) {
        io.stdout(JSON.stringify({ ok: true, diagnostics: result.diagnostics.items }, null, 2) + '\n');
        return;
      }
      const groups = `${plan.groups.length} group${plan.groups.length === 1 ? '' : 's'}`;
      const instances = `${plan.totalInstances} instance${plan.totalInstances === 1 ? '' : 's'}`;
      const runs =
        result.testground && result.testground.runs.length > 1 ? `; runs ${result.testground.runs.join(', ')}` : '';
      io.stdout(`${file === '-' ? '<stdin>' : file}: ok (${groups}, ${instances}${runs})\n`);
    });
}
