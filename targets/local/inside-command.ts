/**
 * The hidden command a rootless run's tgc runs inside its namespaces (cli/commands/run-inside.ts);
 * apart from targets/local/rootless.ts so the CLI can name it without loading the run's code.
 */
export const INSIDE_COMMAND = 'run-inside';

/** The hidden command that ends what a run started when its tgc ends (targets/driver/reaper.ts). */
export const REAP_COMMAND = 'reap';
