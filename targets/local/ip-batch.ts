import { execOrThrow } from '../driver/exec.js';

/** Runs `ip -batch -` (inside `netns` when given) with these lines: one process for many changes. */
export async function ipBatch(lines: readonly string[], netns?: string): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(netns ? ['-n', netns] : []), '-batch', '-'];
  try {
    await execOrThrow('ip', args, { input: lines.join('\n') + '\n' });
  } catch (err) {
    throw new Error(
      `ip -batch failed${netns ? ` in ${netns}` : ''}: ${(err as Error).message.replace(/^.*? failed: /, '')}`,
    );
  }
}
