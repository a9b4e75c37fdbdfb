import TOML from '@iarna/toml';
import type { Command } from 'commander';
import { EXIT } from '../../model/exit-codes.js';
import type { CliIo } from '../io.js';
import { loadPlan, printDiagnostics, singleRun, type PlanOptions } from '../load-plan.js';
import { formatOption, PLAN_ARGUMENT, testgroundOptions } from './options.js';

interface ConvertFlags extends PlanOptions {
  target?: string;
}

/** `tgc convert`: a Testground composition (one run of it) as the equivalent tgc plan, in TOML. */
export function convertCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('convert')
    .description(
      'print the tgc plan (TOML) equivalent to a Testground composition: tgc convert composition.toml > plan.toml',
    )
    .argument(...PLAN_ARGUMENT)
    .addOption(formatOption())
    .addOption(testgroundOptions()[0]!)
    .addOption(testgroundOptions()[1]!)
    .option(
      '--target <target>',
      "the target the plan is for: its artifacts are programs (local) or images (default: the runner's)",
    )
    .action((file: string, opts: ConvertFlags) => {
      const result = loadPlan(file, opts, io, opts.target);
      if (!result) return done(EXIT.invalid);
      const code = printDiagnostics(result, opts, io);
      if (code !== EXIT.ok) return done(code);
      if (!result.testground) {
        io.stderr(`tgc: ${file} is already a tgc plan (convert reads Testground compositions)\n`);
        return done(EXIT.invalid);
      }
      if (!singleRun(result, opts, io)) return done(EXIT.invalid);
      const value = result.composition!;
      const header =
        `# Converted by tgc convert from ${file === '-' ? 'standard input' : file}` +
        ` (Testground run "${result.testground.run}"); docs/testground.md.\n`;
      io.stdout(header + TOML.stringify(value as unknown as TOML.JsonMap));
      done(EXIT.ok);
    });
}
