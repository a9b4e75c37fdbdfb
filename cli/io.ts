/** Everything the CLI needs from the outside world, so tests can run it in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Reads all of standard input (for `-`), at most `limit` bytes plus one. */
  readonly readStdin: (limit: number) => Uint8Array;
  /** Standard input as a stream, for commands that read it line by line as it comes. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Colour on stderr: a TTY and no NO_COLOR. */
  readonly color: boolean;
  /** stderr is a terminal (live progress line). @default false */
  readonly tty?: boolean;
  /** Aborted on Ctrl-C. */
  readonly signal?: AbortSignal;
  /** The environment instances inherit, and the working directory they run in. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Whether this process may create network namespaces (root). */
  readonly isRoot?: boolean;
}
