import type { Aggregate, GroupResult, Results } from '../../protocol/messages.js';
import { summarize } from './aggregate.js';
import type { Timeline } from './timeline.js';
import type { Instance, RunOptions } from './types.js';

/** The final results of a decided run: per group and per instance, metrics summarized. */
export function buildResults(
  o: RunOptions,
  instances: readonly Instance[],
  groupMetrics: ReadonlyMap<string, ReadonlyMap<string, Aggregate>>,
  timeline: Timeline,
  end: { readonly outcome: 'success' | 'failure'; readonly reason: string | null; readonly now: number },
): Results {
  const { outcome, reason, now } = end;
  const groups: Record<string, GroupResult> = {};
  const names = new Set([...Object.keys(o.groups ?? {}), ...instances.map((i) => i.group)]);
  for (const g of names) {
    const members = instances.filter((i) => i.group === g);
    const outcomes: Record<string, number> = {};
    for (const i of members) outcomes[i.outcome!] = (outcomes[i.outcome!] ?? 0) + 1;
    groups[g] = {
      expected: o.groups?.[g] ?? null,
      registered: members.length,
      outcomes,
      metrics: summarize(groupMetrics.get(g) ?? new Map()),
    };
  }
  return {
    run_id: o.runId,
    plan: o.plan,
    outcome,
    reason,
    duration_ms: now,
    expected_instances: o.instances,
    registered_instances: instances.length,
    groups,
    instances: instances.map((i) => ({
      name: i.name,
      group: i.group,
      seq: i.seq,
      group_seq: i.groupSeq,
      data_ip: i.dataIp,
      outcome: i.outcome!,
      reason: i.reason ?? null,
      registered_ms: i.registeredMs,
      ended_ms: i.endedMs ?? null,
      metrics: summarize(i.metrics),
      messages: [...i.messages],
    })),
    timeline: [...timeline.events],
    timeline_dropped: timeline.dropped,
    events: [...timeline.applied],
  };
}
