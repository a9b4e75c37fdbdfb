/**
 * The exit codes of every tgc program (SPEC §3): the CLI, the drivers it runs, and the
 * coordinator and shaping agent inside deployments. Nothing returns another number.
 */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** The run ran and failed (an instance failed, crashed or timed out). */
  runFailed: 1,
  /** Invalid input or usage. */
  invalid: 2,
  /** An environment problem, with the fix in the message. */
  environment: 3,
  /** A bug in tgc. */
  internal: 70,
  /** Interrupted, after cleanup. */
  interrupted: 130,
} as const;
