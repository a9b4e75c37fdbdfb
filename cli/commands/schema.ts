import type { Command } from 'commander';
import { schema } from '../../compiler/check-schema.js';
import type { CliIo } from '../io.js';

/** `tgc schema`: the composition JSON Schema. */
export function schemaCommand(program: Command, io: CliIo): Command {
  return program
    .command('schema')
    .description('print the composition JSON Schema (for editors: yaml-language-server, Taplo)')
    .action(() => {
      io.stdout(JSON.stringify(schema, null, 2) + '\n');
    });
}
