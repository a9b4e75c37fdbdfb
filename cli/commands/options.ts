import { Option } from 'commander';

/** `--format toml|yaml`, which every command that reads a plan takes. */
export function formatOption(): Option {
  return new Option('--format <format>', 'parser to use; required when the plan is read from stdin (-)').choices([
    'toml',
    'yaml',
  ]);
}

export const PLAN_ARGUMENT = ['<plan>', 'plan file (.toml, .yaml, .yml), or - for stdin'] as const;

/** Commander's accumulator for repeatable options (`--image`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
