import { EXIT } from '../../model/exit-codes.js';

export interface GuardOptions {
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
  /** Saves what can be saved (logs, exit codes); may fail. */
  readonly collect: () => Promise<unknown>;
  /** Removes everything the run created; never throws. */
  readonly teardown: () => Promise<void>;
  /** What tearing down means here, for the Ctrl-C message. */
  readonly stopping: string;
}

/**
 * A driver's run with its cleanup guaranteed: when the body throws, and when it calls `stop()`
 * after Ctrl-C (→ 130), what ran is collected and torn down before the driver returns.
 */
export async function guarded(
  o: GuardOptions,
  body: (h: { interrupted: () => boolean; stop: () => Promise<number> }) => Promise<number>,
): Promise<number> {
  let interrupted = false;
  const onAbort = () => (interrupted = true);
  o.signal.addEventListener('abort', onAbort, { once: true });
  const stop = async () => {
    o.say(`tgc: interrupted; ${o.stopping}`);
    await o.collect().catch(() => undefined);
    await o.teardown();
    return EXIT.interrupted;
  };
  try {
    return await body({ interrupted: () => interrupted, stop });
  } catch (err) {
    await o.collect().catch(() => undefined);
    await o.teardown();
    throw err;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}
