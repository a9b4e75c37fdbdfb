import type { RunOptions } from '../target.js';

/**
 * `TGC_TIMING=1 tgc run …`: one stderr line per phase of a run (`timing <phase> <ms> ms`, since
 * `since`), for finding where a run's time goes; nothing otherwise.
 */
export function timing(o: Pick<RunOptions, 'env' | 'io'>, since = Date.now()): (what: string) => void {
  return (what) => void (o.env.TGC_TIMING && o.io.stderr(`timing ${what} ${Date.now() - since} ms\n`));
}
