// What programs on Testground's sdk-go leave outside the sync service: the metrics they write to
// results.out and diagnostics.out in their outputs (their stdout events: protocol/sdkgo-events.ts).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Distribution, MetricKind, MetricSummary, Rates } from '../../protocol/messages.js';

/** Bytes of a metrics file read at most (its start): a runaway writer does not stall the run's end. */
const MAX_METRICS_BYTES = 64 * 1024 * 1024;

const KINDS: readonly MetricKind[] = ['point', 'counter', 'ewma', 'gauge', 'histogram', 'meter', 'timer'];
const PERCENTILES = ['p50', 'p75', 'p95', 'p99', 'p999', 'p9999'] as const;

/** An instance's sdk-go metrics by name, and its diagnostics apart. */
export interface SdkgoMetrics {
  readonly metrics: Map<string, MetricSummary>;
  readonly diagnostics: Map<string, MetricSummary>;
}

/** What an instance recorded in its outputs: results.out as metrics, diagnostics.out as diagnostics. */
export function sdkgoMetrics(outputs: string): SdkgoMetrics {
  return {
    metrics: readMetrics(join(outputs, 'results.out')),
    diagnostics: readMetrics(join(outputs, 'diagnostics.out')),
  };
}

/**
 * One metrics file (a JSON object a line: `ts`, `type`, `name`, `measures`), each metric by its
 * meaning (docs/testground.md, Metrics): every point recorded is a value; the others are
 * snapshots sdk-go writes as they change, of which the last is the metric — a counter's count,
 * a gauge's value, an EWMA's rate, a meter's count with its rates, a histogram's or timer's
 * distribution (a timer's in seconds, from nanoseconds). A line of no known type that has a
 * `value` counts as a point.
 */
export function readMetrics(path: string): Map<string, MetricSummary> {
  const out = new Map<string, MetricSummary>();
  const last = new Map<string, { kind: Exclude<MetricKind, 'point'>; x: Record<string, unknown> }>();
  for (const line of readLines(path)) {
    let m: { type?: unknown; name?: unknown; measures?: unknown };
    try {
      m = JSON.parse(line);
    } catch {
      continue;
    }
    if (!m || typeof m.name !== 'string' || !m.measures || typeof m.measures !== 'object') continue;
    const x = m.measures as Record<string, unknown>;
    const kind = KINDS.find((k) => k === m.type) ?? (isNum(x.value) ? 'point' : undefined);
    if (kind === 'point') {
      if (isNum(x.value)) add(out, m.name, x.value);
    } else if (kind) {
      last.set(m.name, { kind, x });
    }
  }
  for (const [name, { kind, x }] of last) {
    const summary = snapshot(kind, x);
    if (summary) out.set(name, summary);
  }
  return out;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const num = (v: unknown) => (isNum(v) ? v : 0);

function add(out: Map<string, MetricSummary>, name: string, value: number): void {
  const a = out.get(name);
  if (!a) {
    out.set(name, { unit: '', count: 1, sum: value, min: value, max: value, last: value, mean: value, kind: 'point' });
    return;
  }
  a.count++;
  a.sum += value;
  a.min = Math.min(a.min, value);
  a.max = Math.max(a.max, value);
  a.last = value;
  a.mean = a.sum / a.count;
}

/** One value as a summary of one. */
const single = (kind: MetricKind, value: number, unit = ''): MetricSummary => ({
  unit,
  count: 1,
  sum: value,
  min: value,
  max: value,
  last: value,
  mean: value,
  kind,
});

function snapshot(kind: Exclude<MetricKind, 'point'>, x: Record<string, unknown>): MetricSummary | undefined {
  switch (kind) {
    case 'counter':
      return isNum(x.count) ? single(kind, x.count) : undefined;
    case 'gauge':
      return isNum(x.value) ? single(kind, x.value) : undefined;
    case 'ewma':
      return isNum(x.rate) ? single(kind, x.rate, '/s') : undefined;
    case 'meter':
      return isNum(x.count) ? { ...single(kind, x.count), rates: rates(x, 'mean') } : undefined;
    case 'histogram':
    case 'timer': {
      if (!isNum(x.count) || x.count <= 0) return undefined;
      // A timer's durations are nanoseconds; results.json speaks seconds.
      const scale = kind === 'timer' ? 1e-9 : 1;
      const d: Distribution = {
        count: x.count,
        min: num(x.min) * scale,
        max: num(x.max) * scale,
        mean: num(x.mean) * scale,
        stddev: num(x.stddev) * scale,
      };
      for (const p of PERCENTILES) if (isNum(x[p])) d[p] = x[p] * scale;
      return {
        unit: kind === 'timer' ? 's' : '',
        count: d.count,
        sum: d.mean * d.count,
        min: d.min,
        max: d.max,
        // A summary has no last value: its mean stands in.
        last: d.mean,
        mean: d.mean,
        kind,
        distribution: d,
        ...(kind === 'timer' && { rates: rates(x, 'meanrate') }),
      };
    }
  }
}

function rates(x: Record<string, unknown>, meanKey: string): Rates {
  return { m1: num(x.m1), m5: num(x.m5), m15: num(x.m15), mean: num(x[meanKey]) };
}

/**
 * Two summaries of one metric as one (instances into their group): counts, sums and extremes
 * add up; a distribution's standard deviation is pooled exactly, its percentiles are dropped
 * (they cannot be derived from the instances' summaries); rates add up.
 */
export function mergeSummaries(a: MetricSummary | undefined, b: MetricSummary): MetricSummary {
  if (!a) {
    const { distribution, ...rest } = b;
    return { ...rest, ...(distribution && { distribution: pooled(undefined, distribution) }) };
  }
  const count = a.count + b.count;
  const sum = a.sum + b.sum;
  const kind = a.kind ?? b.kind;
  const distribution =
    a.distribution && b.distribution ? pooled(a.distribution, b.distribution) : (a.distribution ?? b.distribution);
  const r = a.rates && b.rates ? sumRates(a.rates, b.rates) : (a.rates ?? b.rates);
  return {
    unit: a.unit || b.unit,
    count,
    sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    last: b.last,
    mean: sum / count,
    ...(kind && { kind }),
    ...(distribution && { distribution }),
    ...(r && { rates: r }),
  };
}

function pooled(a: Distribution | undefined, b: Distribution): Distribution {
  if (!a) return { count: b.count, min: b.min, max: b.max, mean: b.mean, stddev: b.stddev };
  const count = a.count + b.count;
  const mean = (a.mean * a.count + b.mean * b.count) / count;
  // E[x²] of each part is its variance plus its mean squared.
  const ex2 = (a.count * (a.stddev ** 2 + a.mean ** 2) + b.count * (b.stddev ** 2 + b.mean ** 2)) / count;
  return {
    count,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    mean,
    stddev: Math.sqrt(Math.max(0, ex2 - mean ** 2)),
  };
}

const sumRates = (a: Rates, b: Rates): Rates => ({
  m1: a.m1 + b.m1,
  m5: a.m5 + b.m5,
  m15: a.m15 + b.m15,
  mean: a.mean + b.mean,
});

function readLines(path: string): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = Math.min(fstatSync(fd).size, MAX_METRICS_BYTES);
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 0);
    return buf.toString('utf8').split('\n').filter(Boolean);
  } finally {
    closeSync(fd);
  }
}
