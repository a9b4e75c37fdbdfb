import { execFile } from 'node:child_process';

/** What a finished command left: its exit code (127: it could not be started), stdout and stderr. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion, with `input` on its stdin; never throws. The runtime's one way
 * to run a command, with the drivers' convention (targets/driver/exec.ts). It uses
 * node:child_process, not execa: this code is bundled into every generated deployment, and
 * execa with its dependencies would be most of the bundle.
 */
export function runCommand(cmd: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, [...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** The last 2,000 characters a running process wrote on stderr (for the error it ends with). */
export function stderrTail(child: { readonly stderr: NodeJS.ReadableStream | null }): () => string {
  let said = '';
  child.stderr?.on('data', (d: Buffer) => (said = (said + d.toString()).slice(-2000)));
  return () => said;
}
