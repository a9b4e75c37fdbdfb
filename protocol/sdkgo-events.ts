// The event lines sdk-go prints on stdout (`{"ts":…,"event":{"success_event":{…}}}`): the only
// report of a plan without an init context. tgc's own plans take them as the outcome; for a
// Testground composition they only explain why an instance that sent no run event failed.

/** The outcome an sdk-go stdout line reports, if it is one. */
export function outcomeFromLine(
  line: string,
): { readonly outcome: 'success' | 'failure' | 'crash'; readonly reason: string | undefined } | undefined {
  if (!line.includes('_event"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const event = (parsed as { event?: Record<string, Record<string, unknown> | undefined> } | null)?.event;
  if (!event || typeof event !== 'object') return undefined;
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  if (event.success_event) return { outcome: 'success', reason: undefined };
  if (event.failure_event) return { outcome: 'failure', reason: text(event.failure_event.error) ?? 'failed' };
  if (event.crash_event) {
    const reason = [text(event.crash_event.error), text(event.crash_event.stacktrace)].filter(Boolean).join('\n');
    return { outcome: 'crash', reason: reason || 'crashed' };
  }
  return undefined;
}

/** The last outcome event among the lines of `text` (the end of an instance's log), if any. */
export function lastPrintedOutcome(text: string): ReturnType<typeof outcomeFromLine> {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const found = outcomeFromLine(lines[i]!.trim());
    if (found) return found;
  }
  return undefined;
}
