import type { Command } from 'commander';
import { EXIT } from '../../model/exit-codes.js';
import type { CliIo } from '../io.js';

/** `tgc report`: renders a run directory's report.html again from its results.json and logs. */
export function reportCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('report')
    .description("render a run's report.html again from its results.json and logs (any target's run directory)")
    .argument('<run-dir>', 'a run directory, as tgc run prints it (.tgc/runs/<run-id>, or its --out)')
    .option('--open', "open the report with the desktop's opener (xdg-open, open) when there is one")
    .action(async (runDir: string, opts: { open?: boolean }) => {
      // Loaded here, not at startup: the other commands do not need the report's code.
      const { readResults, writeReport, RunDirError } = await import('../../report/run-dir.js');
      let path: string;
      try {
        path = writeReport(runDir, readResults(runDir));
      } catch (err) {
        if (!(err instanceof RunDirError)) throw err;
        io.stderr(`tgc report: ${err.message}\n`);
        return done(EXIT.invalid);
      }
      io.stdout(`${path}\n`);
      if (!opts.open) return done(EXIT.ok);
      const { openInBrowser } = await import('../open-in-browser.js');
      const problem = await openInBrowser(path, io.env ?? {});
      if (problem) io.stderr(`tgc report: ${problem}; open ${path} in a browser\n`);
      done(problem ? EXIT.environment : EXIT.ok);
    });
}
