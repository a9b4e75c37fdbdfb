import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../model/exit-codes.js';
import { EnvironmentError } from '../../targets/driver/environment-error.js';
import { enterNamespaces, INSIDE_COMMAND, type InsideRun } from '../../targets/local/rootless.js';
import { TARGETS } from '../../targets/registry.js';
import type { CliIo } from '../io.js';

/**
 * `tgc run-inside` (hidden): the rootless local run's own tgc, started by `tgc run` inside the
 * namespaces it created. Its stdin carries the run as one JSON line; anything after it, or the
 * end of it, means the tgc outside was interrupted.
 */
export function runInsideCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program.command(INSIDE_COMMAND, { hidden: true }).action(async () => {
    const stdin = io.stdin;
    const interrupt = new AbortController();
    io.signal?.addEventListener('abort', () => interrupt.abort(), { once: true });
    const first = await new Promise<string | undefined>((resolve) => {
      if (!stdin) return resolve(undefined);
      let buffered = '';
      let started = false;
      stdin.setEncoding('utf8');
      stdin.on('data', (chunk: string) => {
        if (started) return interrupt.abort();
        buffered += chunk;
        const nl = buffered.indexOf('\n');
        if (nl === -1) return;
        started = true;
        resolve(buffered.slice(0, nl));
        if (buffered.length > nl + 1) interrupt.abort();
      });
      stdin.on('end', () => (started ? interrupt.abort() : resolve(undefined)));
    });
    if (first === undefined) {
      io.stderr(`tgc ${INSIDE_COMMAND}: no run on stdin (tgc run starts this command itself)\n`);
      return done(EXIT.invalid);
    }
    const run = JSON.parse(first) as InsideRun;
    try {
      await enterNamespaces();
      const local = await TARGETS.local();
      done(
        await local.run({
          ...run,
          env: io.env ?? {},
          isRoot: true,
          userns: true,
          io: { stdout: io.stdout, stderr: io.stderr, tty: run.tty },
          signal: interrupt.signal,
        }),
      );
    } catch (err) {
      // Nothing ran to its end: leave no run directory behind, as `tgc run` does.
      if (!existsSync(join(run.outDir, 'results.json'))) rmSync(run.outDir, { recursive: true, force: true });
      if (!(err instanceof EnvironmentError)) throw err;
      io.stderr(`tgc: ${err.message}\n`);
      done(EXIT.environment);
    }
  });
}
