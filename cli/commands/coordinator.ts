import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** `tgc coordinator …`: the runtime's own command line (`coordinator.mjs --help`). */
export function coordinatorCommand(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('coordinator')
    .description('run a standalone coordinator for one run (see tgc coordinator --help)')
    .argument('[options...]', 'coordinator options')
    .helpOption(false)
    .allowUnknownOption(true)
    .action(async (args: string[]) => {
      const { coordinatorMain } = await import('../../runtime/coordinator/main.js');
      done(await coordinatorMain(args, io));
    });
}
