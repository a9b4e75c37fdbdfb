/** Running summary of recorded values: no samples are kept, so memory does not grow with them. */
export interface Aggregate {
  unit: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

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

export function summarize(map: ReadonlyMap<string, Aggregate>): Record<string, Aggregate & { mean: number }> {
  const out: Record<string, Aggregate & { mean: number }> = {};
  for (const name of [...map.keys()].sort()) {
    const a = map.get(name)!;
    out[name] = { ...a, mean: a.sum / a.count };
  }
  return out;
}
