import { exec, sleep } from '../driver/exec.js';
import { inParallel } from '../driver/in-parallel.js';

/**
 * Removes the volumes matching `filter` (a `label=…` filter) on each engine once no container
 * matching it is left there, waiting up to 20 s per engine.
 */
export async function removeVolumesOnceFree(
  engines: readonly Readonly<Record<string, string | undefined>>[],
  filter: string,
): Promise<void> {
  await inParallel(engines, async (there) => {
    for (const until = Date.now() + 20_000; Date.now() < until; await sleep(500)) {
      const containers = await exec('docker', ['ps', '-aq', '--filter', filter], { env: there });
      if (containers.code !== 0 || containers.stdout.trim() !== '') continue;
      const volumes = (await exec('docker', ['volume', 'ls', '-q', '--filter', filter], { env: there })).stdout;
      const names = volumes.split('\n').filter(Boolean);
      if (names.length > 0) await exec('docker', ['volume', 'rm', '-f', ...names], { env: there });
      return;
    }
  });
}
