import type { Aggregate, MetricSummary } from '../../protocol/messages.js';

export function addSample(into: Map<string, Aggregate>, name: string, value: number, unit: string): void {
  const a = into.get(name);
  if (!a) {
    into.set(name, { unit, count: 1, sum: value, min: value, max: value, last: value });
    return;
  }
  a.count++;
  a.sum += value;
  if (value < a.min) a.min = value;
  if (value > a.max) a.max = value;
  a.last = value;
}

export function summarize(map: ReadonlyMap<string, Aggregate>): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (const name of [...map.keys()].sort()) {
    const a = map.get(name)!;
    out[name] = { ...a, mean: a.sum / a.count };
  }
  return out;
}
