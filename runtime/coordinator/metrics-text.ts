import type { Aggregate } from '../../protocol/messages.js';

/** Prometheus text exposition format (version 0.0.4) of a run's progress and recorded metrics. */
export function metricsText(
  status: Record<string, unknown>,
  groupMetrics: ReadonlyMap<string, ReadonlyMap<string, Aggregate>>,
  topics: ReadonlyMap<string, number>,
): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: [Record<string, string>, number][],
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labelText(labels)} ${formatValue(value)}`);
  };
  const groups = status.groups as Record<
    string,
    { expected: number | null; registered: number; outcomes: Record<string, number> }
  >;
  metric('tgc_instances_expected', 'gauge', 'Instances expected in the run.', [[{}, status.instances as number]]);
  metric(
    'tgc_instances_registered',
    'gauge',
    'Instances registered, per group.',
    Object.entries(groups).map(([g, v]) => [{ group: g }, v.registered]),
  );
  metric('tgc_instances_network_ready', 'gauge', 'Instances whose shaping agent reported ready.', [
    [{}, status.network_ready as number],
  ]);
  const outcomes: [Record<string, string>, number][] = [];
  for (const [g, v] of Object.entries(groups))
    for (const [o, n] of Object.entries(v.outcomes)) outcomes.push([{ group: g, outcome: o }, n]);
  metric('tgc_instance_outcomes', 'gauge', 'Instances with an outcome, per group and outcome.', outcomes);
  metric('tgc_run_ended', 'gauge', '1 once the run outcome is decided.', [[{}, status.state === 'ended' ? 1 : 0]]);
  metric('tgc_run_succeeded', 'gauge', '1 if the run ended in success.', [[{}, status.outcome === 'success' ? 1 : 0]]);
  metric('tgc_connections', 'gauge', 'Open sync connections.', [[{}, status.connections as number]]);
  metric('tgc_sent_frames_total', 'counter', 'Frames the coordinator wrote to its clients.', [
    [{}, status.sent_frames as number],
  ]);
  metric('tgc_sent_bytes_total', 'counter', 'Bytes the coordinator wrote to its clients.', [
    [{}, status.sent_bytes as number],
  ]);
  metric(
    'tgc_state_signals_total',
    'counter',
    'Signals per sync state.',
    Object.entries(status.states as Record<string, number>).map(([s, n]) => [{ state: s }, n]),
  );
  metric(
    'tgc_topic_messages_total',
    'counter',
    'Messages published per topic.',
    [...topics].map(([t, n]) => [{ topic: t }, n]),
  );
  const recorded: Record<'count' | 'sum' | 'min' | 'max', [Record<string, string>, number][]> = {
    count: [],
    sum: [],
    min: [],
    max: [],
  };
  for (const [g, metrics] of groupMetrics) {
    for (const [name, a] of metrics) {
      const labels = { group: g, name, unit: a.unit };
      recorded.count.push([labels, a.count]);
      recorded.sum.push([labels, a.sum]);
      recorded.min.push([labels, a.min]);
      recorded.max.push([labels, a.max]);
    }
  }
  metric('tgc_recorded_count', 'counter', 'Values recorded by instances, per group and metric name.', recorded.count);
  metric('tgc_recorded_sum', 'counter', 'Sum of recorded values.', recorded.sum);
  metric('tgc_recorded_min', 'gauge', 'Smallest recorded value.', recorded.min);
  metric('tgc_recorded_max', 'gauge', 'Largest recorded value.', recorded.max);
  return out.join('\n') + '\n';
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
