// What programs on Testground's sdk-go leave outside the sync service: the metrics they write to
// results.out and diagnostics.out in their outputs (their stdout events: protocol/sdkgo-events.ts).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Aggregate } from '../../protocol/messages.js';

/** Bytes of a metrics file read at most (its start): a runaway writer does not stall the run's end. */
const MAX_METRICS_BYTES = 64 * 1024 * 1024;

/**
 * The metrics an sdk-go instance recorded (one JSON object per line: `ts`, `type`, `name`,
 * `measures`), summarized per name: a point's or gauge's `value`, a counter's `count`, a
 * histogram's or timer's `mean`, a meter's or EWMA's rate. diagnostics.out's names get a
 * `diagnostics.` prefix.
 */
export function sdkgoMetrics(outputs: string): Map<string, Aggregate> {
  const out = new Map<string, Aggregate>();
  for (const [file, prefix] of [
    ['results.out', ''],
    ['diagnostics.out', 'diagnostics.'],
  ] as const) {
    for (const line of readLines(join(outputs, file))) {
      let m: { name?: unknown; measures?: Record<string, unknown> };
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      const x = m.measures ?? {};
      const value = [x.value, x.count, x.mean, x.rate, x.m1].find((v) => typeof v === 'number' && Number.isFinite(v));
      if (typeof m.name !== 'string' || typeof value !== 'number') continue;
      const name = prefix + m.name;
      const a = out.get(name);
      if (!a) out.set(name, { unit: '', count: 1, sum: value, min: value, max: value, last: value });
      else {
        a.count++;
        a.sum += value;
        a.min = Math.min(a.min, value);
        a.max = Math.max(a.max, value);
        a.last = value;
      }
    }
  }
  return out;
}

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
