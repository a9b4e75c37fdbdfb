import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveCounts } from '../../compiler/instance-counts.js';
import { linkLayers } from '../../model/link-layers.js';
import { suggest } from '../../compiler/suggest.js';
import { parseCpu, parseDuration, parseMemory, parsePercent, parseRate } from '../../model/units.js';
import { parseCidr } from '../../model/ipv4.js';

test('durations', () => {
  const cases: [string, number | undefined][] = [
    ['50ms', 50],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['100us', 0.1],
    ['250µs', 0.25],
    ['500ns', 0.0005],
    ['0s', 0],
    ['10', undefined],
    ['ms', undefined],
    ['1.5', undefined],
    ['-1s', undefined],
    ['1 s', undefined],
    ['1d', undefined],
    ['', undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('percents', () => {
  for (const [text, v] of [
    ['1%', 1],
    ['0.5%', 0.5],
    ['100%', 100],
    ['0%', 0],
    ['101%', undefined],
    ['1', undefined],
    ['-1%', undefined],
  ] as const) {
    assert.equal(parsePercent(text), v, text);
  }
});

test('rates: bits or bytes per second, decimal or binary prefixes', () => {
  const cases: [string, number | undefined][] = [
    ['10Mbit', 10e6],
    ['1Gbit', 1e9],
    ['500kbit', 500e3],
    ['500Kbit', 500e3],
    ['8Kibit', 8192],
    ['2MB/s', 16e6],
    ['512KiB/s', 512 * 1024 * 8],
    ['100bit', 100],
    ['1.5Mbit', 1.5e6],
    ['10Mbps', undefined],
    ['10mbit', undefined],
    ['10 Mbit', undefined],
    ['10', undefined],
    ['10MiB', undefined],
  ];
  for (const [text, bps] of cases) assert.equal(parseRate(text), bps, text);
});

test('cpu and memory', () => {
  assert.equal(parseCpu(0.5), 500);
  assert.equal(parseCpu('1500m'), 1500);
  assert.equal(parseCpu('2'), 2000);
  assert.equal(parseCpu(0), undefined);
  assert.equal(parseMemory('512Mi'), 512 * 1024 ** 2);
  assert.equal(parseMemory('1G'), 1e9);
  assert.equal(parseMemory('1024'), 1024);
  assert.equal(parseMemory('1mb'), undefined);
});

test('CIDRs', () => {
  assert.deepEqual(parseCidr('198.18.0.0/16'), { address: (198 * 256 + 18) * 65536, prefix: 16 });
  assert.ok('error' in parseCidr('198.18.0.1/16'));
  assert.match((parseCidr('198.18.3.0/16') as { error: string }).error, /198\.18\.0\.0\/16/);
  assert.ok('error' in parseCidr('300.0.0.0/8'));
  assert.ok('error' in parseCidr('198.18.0.0/31'));
});

test('percentages: largest remainder, ties to the group written first, always summing to the total', () => {
  assert.deepEqual(resolveCounts([{ percentage: 0.5 }, { percentage: 0.5 }], 3), [2, 1]);
  assert.deepEqual(resolveCounts([{ percentage: 1 / 3 }, { percentage: 1 / 3 }, { percentage: 1 / 3 }], 10), [4, 3, 3]);
  assert.deepEqual(resolveCounts([{ count: 2 }, { percentage: 0.8 }], 10), [2, 8]);
  assert.deepEqual(resolveCounts([{ count: 2 }, { count: 3 }], undefined), [2, 3]);
  assert.deepEqual(resolveCounts([{ percentage: 0.5 }], undefined), { problem: 'no-total' });
  assert.deepEqual(resolveCounts([{ percentage: 0.5 }, { percentage: 0.4 }], 10), { problem: 'sum' });
  assert.deepEqual(resolveCounts([{ count: 2 }], 3), { problem: 'mismatch' });
  for (let total = 1; total <= 200; total++) {
    const counts = resolveCounts([{ percentage: 0.17 }, { percentage: 0.29 }, { percentage: 0.54 }], total);
    assert.ok(Array.isArray(counts));
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      total,
      `total ${total}`,
    );
  }
});

test('link layers: [network] < *→* < group < *→to < from→* < from→to', () => {
  const rules = new Map([
    ['*>*', 'star-star'],
    ['*>b', 'star-b'],
    ['a>*', 'a-star'],
    ['a>b', 'a-b'],
  ]);
  const source = {
    root: 'network',
    group: (id: string) => (id === 'a' ? 'group-a' : undefined),
    rule: (f: string, t: string) => rules.get(`${f}>${t}`),
  };
  assert.deepEqual(linkLayers('a', 'b', source), ['network', 'star-star', 'group-a', 'star-b', 'a-star', 'a-b']);
  assert.deepEqual(linkLayers('c', 'd', source), ['network', 'star-star']);
  assert.deepEqual(linkLayers('c', 'b', source), ['network', 'star-star', 'star-b']);
});

test('suggestions catch typos and swaps, not unrelated words', () => {
  assert.equal(suggest('nmae', ['name', 'version']), 'name');
  assert.equal(suggest('instance', ['id', 'instances']), 'instances');
  assert.equal(suggest('latnecy', ['latency', 'loss']), 'latency');
  assert.equal(suggest('zzzzzz', ['name', 'version']), undefined);
});
