import { testInstanceCount } from '../../model/instance-layout.js';
import type { CoordinatorStatus, Results } from '../../protocol/messages.js';
import type { RunOptions } from '../target.js';
import { EnvironmentError } from './environment-error.js';
import { sleep } from './exec.js';
import { Progress } from './progress.js';

async function getJson(url: string): Promise<unknown> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.json() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Follows a coordinator over HTTP until the run ends: the live progress line (a terminal) or
 * progress lines when they change, then `/results`. Resolves to undefined when interrupted.
 */
export async function followCoordinator(
  url: string,
  o: RunOptions,
  how: { readonly interrupted: () => boolean; readonly what: string },
): Promise<Results | undefined> {
  // The coordinator's deadline ends the run; this one only guards against a coordinator that never answers.
  const giveUp = Date.now() + o.plan.timeoutMs + 120_000;
  const progress = new Progress(o.io, o.json, testInstanceCount(o.plan.groups));
  for (;;) {
    if (how.interrupted()) return undefined;
    if (Date.now() > giveUp)
      throw new EnvironmentError(`the coordinator at ${url} did not end the run within its deadline; see ${how.what}`);
    const status = await getJson(`${url}/status`);
    if (status && (status as { state?: string }).state === 'ended') {
      const results = (await getJson(`${url}/results`)) as Results | undefined;
      if (results) {
        progress.clear();
        return results;
      }
    } else if (status) progress.show(status as CoordinatorStatus);
    await sleep(250);
  }
}

/**
 * The results a coordinator printed on its stdout when the run ended (pretty JSON, from a line
 * holding `{` alone to the end), where its HTTP port could not be reached; undefined if none.
 */
export function resultsFromLog(stdout: string): Results | undefined {
  const start = stdout.lastIndexOf('\n{\n');
  const text = start >= 0 ? stdout.slice(start + 1) : stdout.startsWith('{\n') ? stdout : '';
  try {
    const parsed = JSON.parse(text) as Results;
    return parsed && typeof parsed === 'object' && 'outcome' in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}
