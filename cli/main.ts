import { Command, CommanderError } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { buildCommand } from './commands/build.js';
import { compileCommand } from './commands/compile.js';
import { convertCommand } from './commands/convert.js';
import { coordinatorCommand } from './commands/coordinator.js';
import { planCommand } from './commands/plan.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { reapCommand, runInsideCommand } from './commands/run-inside.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { EXIT } from '../model/exit-codes.js';
import type { CliIo } from './io.js';

export type { CliIo } from './io.js';

/** Runs one `tgc` command line; resolves to the exit code. Never throws, never exits. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('tgc')
    .description('tgc: declarative network test compositions (TOML/YAML) for p2p and distributed systems.')
    .version(pkg.version, '-V, --version', 'print the tgc version')
    .helpOption('-h, --help', 'show help')
    .addHelpText(
      'after',
      '\nExit codes: 0 success · 1 the run failed · 2 invalid plan or usage · 3 environment problem · ' +
        '130 interrupted · 70 internal error (a bug in tgc).\nDocs: README.md and docs/composition.md.',
    )
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showSuggestionAfterError(true);

  // Each command is defined in its own module, as a subcommand of this program (whose output
  // and error handling it inherits).
  const setCode = (c: number) => void (code = c);
  validateCommand(program, io, setCode);
  planCommand(program, io, setCode);
  schemaCommand(program, io);
  buildCommand(program, io, setCode);
  compileCommand(program, io, setCode);
  convertCommand(program, io, setCode);
  runCommand(program, io, setCode);
  reportCommand(program, io, setCode);
  coordinatorCommand(program, io, setCode);
  program
    .command('sync')
    .description('inside an instance: signal, wait, publish, subscribe, record, report (tgc sync --help)')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[args...]')
    .action(async (args: string[]) => {
      const { syncMain } = await import('./sync/sync-main.js');
      setCode(await syncMain(args, { stdout: io.stdout, stderr: io.stderr, env: io.env ?? {} }));
    });
  runInsideCommand(program, io, setCode);
  reapCommand(program, setCode);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other parse failure is a usage error.
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
        ? EXIT.ok
        : EXIT.invalid;
    }
    io.stderr(
      `tgc: internal error: ${(err as Error)?.message ?? String(err)}\nThis is a bug in tgc; please report it ` +
        `with the plan that caused it.\n`,
    );
    return EXIT.internal;
  }
}
