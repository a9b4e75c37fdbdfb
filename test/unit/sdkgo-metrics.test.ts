// sdk-go's metric files read by their kinds (targets/driver/sdkgo-output.ts), and merged per
// group: what results.json says of a Testground plan's results.out and diagnostics.out.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeSummaries, readMetrics, sdkgoMetrics } from '../../targets/driver/sdkgo-output.js';
import { tempDir } from '../support/helpers.js';

const line = (type: string | undefined, name: string, measures: Record<string, number>) =>
  JSON.stringify({ ts: 1, ...(type !== undefined && { type }), name, measures });

function file(lines: string[]): string {
  const path = join(tempDir('tgc-sdkgo-'), 'results.out');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

test('points keep every value; the other kinds are their last snapshot', () => {
  const m = readMetrics(
    file([
      line('point', 'p', { value: 1 }),
      line('counter', 'c', { count: 3 }),
      'not json',
      line('point', 'p', { value: 5 }),
      line('counter', 'c', { count: 9 }),
      line('gauge', 'g', { value: -2 }),
      line('ewma', 'e', { rate: 0.25 }),
      line(undefined, 'untyped', { value: 4 }),
      line('mystery', 'skipped', { count: 4 }),
      line('counter', 'no-count', { value: 4 }),
    ]),
  );
  assert.deepEqual(
    [...m.keys()].sort(),
    ['c', 'e', 'g', 'p', 'untyped'],
    'a line of no known type counts only with a value',
  );
  assert.deepEqual(m.get('p'), { unit: '', count: 2, sum: 6, min: 1, max: 5, last: 5, mean: 3, kind: 'point' });
  assert.deepEqual([m.get('c')!.kind, m.get('c')!.count, m.get('c')!.last], ['counter', 1, 9]);
  assert.deepEqual([m.get('g')!.last, m.get('e')!.last, m.get('e')!.unit], [-2, 0.25, '/s']);
  assert.equal(m.get('untyped')!.kind, 'point');
});

test('a timer is a distribution in seconds with its rates; a meter a count with its rates', () => {
  const m = readMetrics(
    file([
      line('timer', 't', {
        count: 3,
        min: 1e6,
        max: 3e6,
        mean: 2e6,
        stddev: 816496.58,
        p50: 2e6,
        p75: 3e6,
        p95: 3e6,
        p99: 3e6,
        m1: 0.2,
        m5: 0.1,
        m15: 0.05,
        meanrate: 1.5,
      }),
      line('meter', 'm', { count: 4, m1: 1, m5: 2, m15: 3, mean: 4 }),
      line('histogram', 'empty', { count: 0 }),
    ]),
  );
  const t = m.get('t')!;
  assert.deepEqual([t.kind, t.unit, t.count, t.min, t.max, t.mean], ['timer', 's', 3, 0.001, 0.003, 0.002]);
  assert.deepEqual(t.distribution, {
    count: 3,
    min: 0.001,
    max: 0.003,
    mean: 0.002,
    stddev: 0.00081649658,
    p50: 0.002,
    p75: 0.003,
    p95: 0.003,
    p99: 0.003,
  });
  assert.deepEqual(t.rates, { m1: 0.2, m5: 0.1, m15: 0.05, mean: 1.5 });
  assert.deepEqual([m.get('m')!.last, m.get('m')!.rates], [4, { m1: 1, m5: 2, m15: 3, mean: 4 }]);
  assert.equal(m.has('empty'), false, 'a histogram of nothing says nothing');
});

test('merged per group: distributions pooled exactly, percentiles dropped, rates added', () => {
  // Two instances' histograms of the values {1, 3} and {5, 7, 9}.
  const h = (values: number[]) => {
    const mean = values.reduce((a, b) => a + b) / values.length;
    const stddev = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    return readMetrics(
      file([
        line('histogram', 'h', {
          count: values.length,
          min: Math.min(...values),
          max: Math.max(...values),
          mean,
          stddev,
          p50: mean,
        }),
      ]),
    ).get('h')!;
  };
  const group = mergeSummaries(mergeSummaries(undefined, h([1, 3])), h([5, 7, 9]));
  const all = [1, 3, 5, 7, 9];
  const mean = 5;
  const stddev = Math.sqrt(all.reduce((a, v) => a + (v - mean) ** 2, 0) / all.length);
  assert.deepEqual([group.count, group.min, group.max, group.mean], [5, 1, 9, 5]);
  assert.ok(Math.abs(group.distribution!.stddev - stddev) < 1e-12, `${group.distribution!.stddev} vs ${stddev}`);
  assert.equal(group.distribution!.p50, undefined);
  assert.equal(mergeSummaries(undefined, h([1, 3])).distribution!.p50, undefined, 'a group of one has none either');
  const meter = (n: number) =>
    readMetrics(file([line('meter', 'm', { count: n, m1: 1, m5: 1, m15: 1, mean: n })])).get('m')!;
  const meters = mergeSummaries(mergeSummaries(undefined, meter(2)), meter(3));
  assert.deepEqual([meters.sum, meters.rates], [5, { m1: 2, m5: 2, m15: 2, mean: 5 }]);
});

test('an instance without metric files has none; diagnostics.out is read apart', () => {
  const dir = tempDir('tgc-sdkgo-');
  assert.deepEqual(sdkgoMetrics(dir), { metrics: new Map(), diagnostics: new Map() });
  writeFileSync(join(dir, 'diagnostics.out'), line('gauge', 'runtime.MemStats.Alloc', { value: 42 }) + '\n');
  const found = sdkgoMetrics(dir);
  assert.equal(found.metrics.size, 0);
  assert.equal(found.diagnostics.get('runtime.MemStats.Alloc')!.last, 42);
});
