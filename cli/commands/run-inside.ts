import type { Command } from 'commander';
import { EXIT } from '../../model/exit-codes.js';
import { INSIDE_COMMAND, REAP_COMMAND } from '../../targets/local/inside-command.js';
import type { InsideRun } from '../../targets/local/rootless.js';
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
    let run: InsideRun;
    try {
      run = JSON.parse(first) as InsideRun;
    } catch {
      io.stderr(`tgc ${INSIDE_COMMAND}: its first line of stdin is not a run (tgc run starts this command itself)\n`);
      return done(EXIT.invalid);
    }
    // Loaded on demand, like tgc run's own code: `tgc validate` and `tgc plan` never parse it.
    const [{ enterNamespaces }, { TARGETS }, { runToEnd }] = await Promise.all([
      import('../../targets/local/rootless.js'),
      import('../../targets/registry.js'),
      import('../start-run.js'),
    ]);
    const local = await TARGETS.local();
    const inside = async () => {
      await enterNamespaces();
      return local.run({
        ...run,
        env: io.env ?? {},
        isRoot: true,
        userns: true,
        io: { stdout: io.stdout, stderr: io.stderr, tty: run.tty },
        signal: interrupt.signal,
      });
    };
    done(await runToEnd(inside, run.outDir, io));
  });
}

/**
 * `tgc reap <pid> <tag>` / `tgc reap <pid> --compose <run-id>` (hidden): started by a root local
 * run, or a compose run, beside itself; when that tgc ends, however it ends, what the run
 * started goes with it (targets/driver/reaper.ts).
 */
export function reapCommand(program: Command, done: (code: number) => void): Command {
  return program
    .command(REAP_COMMAND, { hidden: true })
    .argument('<pid>')
    .argument('[tag]')
    .option('--compose <run-id>')
    .action(async (pid: string, tag: string | undefined, opts: { compose?: string }) => {
      const { reap } = await import('../../targets/driver/reaper.js');
      await reap(Number(pid), tag, opts.compose).catch(() => undefined);
      done(EXIT.ok);
    });
}
