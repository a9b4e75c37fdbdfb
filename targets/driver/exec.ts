import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';

/** What a finished command left: its exit code (127: it could not be started), stdout and stderr. */
export interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** The whole environment of the command. @default this process's */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Written to its standard input. */
  readonly input?: string;
  /** @default this process's working directory */
  readonly cwd?: string;
}

/**
 * Runs a command to completion. The one convention of the drivers: it never throws; the
 * caller reads the exit code (127 when the command could not be started at all).
 */
export async function exec(cmd: string, args: readonly string[], o: ExecOptions = {}): Promise<Exec> {
  const r = await execa(cmd, args, {
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
    ...(o.env && { env: o.env, extendEnv: false }),
    ...(o.cwd !== undefined && { cwd: o.cwd }),
    ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
  });
  const code = typeof r.exitCode === 'number' ? r.exitCode : r.failed && r.signal === undefined ? 127 : 128;
  return { code, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Like `exec`, for steps that must work: rejects with the command's stderr when it fails. */
export async function execOrThrow(cmd: string, args: readonly string[], o: ExecOptions = {}): Promise<string> {
  const r = await exec(cmd, args, o);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
  return r.stdout;
}

/** Whether `tool` is an executable file on PATH (no process started). */
export function onPath(tool: string, path = process.env.PATH ?? ''): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, tool), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
