import { Option } from 'commander';

/** `--format toml|yaml|testground`, which every command that reads a plan takes. */
export function formatOption(): Option {
  return new Option(
    '--format <format>',
    'parser to use; required when the plan is read from stdin (-); testground: a Testground composition ' +
      '(found by itself in a .toml file with [global] and no version)',
  ).choices(['toml', 'yaml', 'testground']);
}

/** The options of commands that read a Testground composition (docs/testground.md). */
export function testgroundOptions(): Option[] {
  return [
    new Option('--run <id>', 'Testground compositions: the [[runs]] entry to use (default: the first in id order)'),
    new Option(
      '--manifest <path>',
      'Testground compositions: the manifest.toml (default: beside the composition or above it)',
    ),
  ];
}

export const PLAN_ARGUMENT = ['<plan>', 'plan file (.toml, .yaml, .yml), or - for stdin'] as const;

/** Commander's accumulator for repeatable options (`--image`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
