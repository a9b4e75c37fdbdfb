import { spawn } from 'node:child_process';
import { platform } from 'node:os';
import { resolve } from 'node:path';
import { onPath } from '../targets/driver/exec.js';

/**
 * Hands a file to the desktop's opener (`open` on macOS, `xdg-open` elsewhere), detached: tgc
 * does not wait for the browser. Resolves to why it could not, or undefined.
 */
export async function openInBrowser(
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  const opener = platform() === 'darwin' ? 'open' : 'xdg-open';
  if (!onPath(opener, env.PATH ?? '')) return `no desktop opener here (${opener} is not on PATH)`;
  if (opener === 'xdg-open' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return 'no desktop session (DISPLAY is not set)';
  return new Promise((done) => {
    const child = spawn(opener, [resolve(file)], { detached: true, stdio: 'ignore', env: { ...env } });
    child.once('error', (err) => done(`${opener} could not start: ${err.message}`));
    child.once('spawn', () => {
      child.unref();
      done(undefined);
    });
  });
}
