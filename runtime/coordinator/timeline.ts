import type { AppliedEvent, TimelineEvent } from '../../protocol/messages.js';

/** At most this many events are kept for a run: enough for 10,000 instances' life cycles. */
export const MAX_TIMELINE_EVENTS = 200_000;
/**
 * At most this many `record` events per instance and metric: a metric recorded in a tight loop
 * keeps its summary (in the metrics), not every point.
 */
export const MAX_RECORDS_PER_SERIES = 1000;

/**
 * What happened when, for the run report: registrations, network readiness, state signals,
 * records, network changes and outcomes, in the order the coordinator saw them. Bounded: what
 * goes over a limit is counted in `dropped`, not kept.
 */
export class Timeline {
  readonly events: TimelineEvent[] = [];
  dropped = 0;
  /** The plan's scheduled events as applied: few (one per `[[events]]` entry), all kept. */
  readonly applied: AppliedEvent[] = [];
  private readonly seriesCounts = new Map<string, number>();

  add(event: TimelineEvent): void {
    if (event.event === 'record') {
      const key = `${event.instance}\0${event.metric}`;
      const n = this.seriesCounts.get(key) ?? 0;
      if (n >= MAX_RECORDS_PER_SERIES) {
        this.dropped++;
        return;
      }
      this.seriesCounts.set(key, n + 1);
    }
    if (this.events.length >= MAX_TIMELINE_EVENTS) {
      this.dropped++;
      return;
    }
    this.events.push(event);
  }
}
