import { execFile } from 'node:child_process';

/** Runs `ip -batch -` (inside `netns` when given) with these lines: one process for many changes. */
export function ipBatch(lines: readonly string[], netns?: string): Promise<void> {
  if (lines.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const child = execFile('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], (err, _out, stderr) =>
      err ? reject(new Error(`ip -batch failed${netns ? ` in ${netns}` : ''}: ${stderr.trim()}`)) : resolve(),
    );
    child.stdin!.end(lines.join('\n') + '\n');
  });
}
