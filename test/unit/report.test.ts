// report.html rendered from results.json alone: size, escaping, what reads without JavaScript.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TimelineEvent } from '../../protocol/messages.js';
import type { RunReport } from '../../protocol/run-report.js';
import { readResults, writeReport } from '../../report/run-dir.js';
import { resultsJson } from '../../targets/driver/run-report.js';
import { position, timeAxis } from '../../report/timeline-view.js';
import { prng, runCli, tempDir } from '../support/helpers.js';

/** A run of `n` instances in 4 groups, each recording 3 metrics 50 times, with messages and long logs. */
function bigRun(dir: string, n: number): RunReport {
  const rand = prng(7);
  const groups = ['alpha', 'beta', 'gamma', 'delta'];
  const timeline: TimelineEvent[] = [];
  const instances = Array.from({ length: n }, (_, i) => {
    const name = `${groups[i % 4]}-${Math.floor(i / 4)}`;
    timeline.push({ t_ms: i, event: 'registered', instance: name });
    const metrics: Record<string, any> = {};
    for (const metric of ['latency_ms', 'throughput', 'peers']) {
      let sum = 0;
      for (let k = 0; k < 50; k++) {
        const value = 1000 * rand();
        sum += value;
        timeline.push({ t_ms: 1000 + 37 * k + i, event: 'record', instance: name, metric, value });
      }
      metrics[metric] = { unit: 'ms', count: 50, sum, min: 0, max: 1000, last: 1, mean: sum / 50 };
    }
    timeline.push({ t_ms: 5000 + i, event: 'outcome', instance: name, outcome: 'success', reason: null });
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(join(dir, `logs/${name}.log`), `${'x'.repeat(500)}\n`.repeat(1000));
    return {
      name,
      group: groups[i % 4]!,
      seq: i + 1,
      group_seq: Math.floor(i / 4) + 1,
      data_ip: `198.18.0.${i % 250}`,
      outcome: 'success' as const,
      reason: null,
      exit_code: 0,
      registered_ms: i,
      ended_ms: 5000 + i,
      metrics,
      messages: Array.from({ length: 30 }, (_, k) => `message ${k} ${'m'.repeat(200)}`),
      log: `logs/${name}.log`,
      outputs: `outputs/${name}`,
    };
  });
  timeline.sort((a, b) => a.t_ms - b.t_ms);
  const metricSummary = { unit: 'ms', count: 50 * (n / 4), sum: 1, min: 0, max: 1000, last: 1, mean: 500 };
  return {
    tgc_version: '0.1.0',
    run_id: 'r1',
    plan: 'big',
    target: 'local',
    backend: 'userspace',
    outcome: 'success',
    reason: null,
    started_at: '2026-01-01T00:00:00.000Z',
    duration_ms: 6000,
    groups: Object.fromEntries(
      groups.map((g) => [
        g,
        {
          expected: n / 4,
          registered: n / 4,
          outcomes: { success: n / 4 },
          metrics: { latency_ms: metricSummary, throughput: metricSummary, peers: metricSummary },
        },
      ]),
    ),
    instances,
    network: {
      shaping: 'auto',
      subnet: '198.18.0.0/16',
      groups,
      links: groups.flatMap((from) =>
        groups.map((to) => ({ from, to, shape: { latency_ms: 100 }, description: 'latency 100ms' })),
      ),
    },
    timeline,
    timeline_dropped: 0,
    events: [],
  };
}

test('a 200-instance run with metrics recorded 50 times, long logs and messages: report.html under 1 MB', () => {
  const dir = tempDir('tgc-report-');
  const report = bigRun(dir, 200);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(report));
  const path = writeReport(dir, readResults(dir));
  const size = statSync(path).size;
  assert.ok(size < 1024 * 1024, `report.html is ${size} bytes`);
  const html = readFileSync(path, 'utf8');
  assert.equal((html.match(/<details class="instance"/g) ?? []).length, 200);
  assert.equal((html.match(/<div class="row" data-instance=/g) ?? []).length, 200);
  // Each log's end is there, cut to its share of the budget.
  assert.match(html, /<pre class="log">…?x+/);
});

test('the same results give the same page, byte for byte', () => {
  const dir = tempDir('tgc-report-');
  writeFileSync(join(dir, 'results.json'), JSON.stringify(bigRun(dir, 8)));
  const first = readFileSync(writeReport(dir), 'utf8');
  assert.equal(readFileSync(writeReport(dir), 'utf8'), first);
});

test('names, reasons, messages and logs are escaped: nothing in results.json becomes markup or script', () => {
  const dir = tempDir('tgc-report-');
  const report = bigRun(dir, 4);
  const evil = '</script><img src=x onerror=alert(1)>';
  const inst = { ...report.instances[0]!, reason: evil, messages: [evil], outcome: 'failure' as const };
  writeFileSync(join(dir, inst.log), `${evil}\n`);
  const tampered = {
    ...report,
    plan: evil,
    reason: evil,
    outcome: 'failure',
    instances: [inst, ...report.instances.slice(1)],
    groups: {
      ...report.groups,
      [evil]: { ...report.groups.alpha!, metrics: { [evil]: report.groups.alpha!.metrics.peers! } },
    },
  };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(tampered));
  const html = readFileSync(writeReport(dir), 'utf8');
  assert.ok(!html.includes('<img'), 'no element from the data');
  // One closing tag per script element of the page (data, uPlot, the page's own), none from the data.
  assert.equal((html.match(/<\/script>/g) ?? []).length, 3);
  assert.ok(html.includes('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'));
});

test('a results.json naming files outside its run directory: those are not read', () => {
  const dir = tempDir('tgc-report-');
  const report = bigRun(dir, 4);
  const secret = join(tempDir('tgc-secret-'), 'secret.log');
  writeFileSync(secret, 'do not show\n');
  const inst = { ...report.instances[0]!, log: `../${secret}` };
  writeFileSync(
    join(dir, 'results.json'),
    JSON.stringify({ ...report, instances: [inst, ...report.instances.slice(1)] }),
  );
  assert.ok(!readFileSync(writeReport(dir), 'utf8').includes('do not show'));
});

test('readable without JavaScript: verdict, reason, outcome counts and instances are plain HTML', () => {
  const dir = tempDir('tgc-report-');
  const report = bigRun(dir, 8);
  const failed = { ...report.instances[1]!, outcome: 'crash' as const, reason: 'connection lost without an outcome' };
  const groups = { ...report.groups, beta: { ...report.groups.beta!, outcomes: { success: 1, crash: 1 } } };
  writeFileSync(
    join(dir, 'results.json'),
    JSON.stringify({
      ...report,
      outcome: 'failure',
      reason: 'beta-0 crashed: connection lost without an outcome',
      groups,
      instances: [report.instances[0], failed, ...report.instances.slice(2)],
    }),
  );
  const html = readFileSync(writeReport(dir), 'utf8');
  const body = html.replace(/<script[\s\S]*?<\/script>/g, '');
  assert.match(
    body,
    /<span class="verdict failure">FAIL<\/span>big<\/h1><p class="reason">beta-0 crashed: connection lost/,
  );
  assert.match(
    body,
    new RegExp(
      '<tr><th scope="row">beta</th><td>2</td><td>2</td><td class="success">1</td><td class="zero">0</td>' +
        '<td class="crash">1</td>',
    ),
  );
  assert.match(
    body,
    new RegExp(
      '<details class="instance" data-instance="beta-0" open><summary><span class="badge crash">crash</span> ' +
        '<b>beta-0</b> — connection lost',
    ),
  );
});

test('timeline positions: the axis ends on a round tick past the last event; positions are proportional', () => {
  const axis = timeAxis([0, 1234, 2300]);
  assert.deepEqual(axis, { end: 2500, ticks: [0, 500, 1000, 1500, 2000, 2500] });
  assert.equal(position(1250, axis), '50.0000%');
  assert.equal(position(0, axis), '0.0000%');
  assert.deepEqual(timeAxis([]).end, 1);
  assert.ok(timeAxis([59_000]).ticks.length <= 9);
});

test('tgc report --open: hands the page to xdg-open where there is a desktop; exit 3 where there is none', async () => {
  const dir = tempDir('tgc-report-');
  writeFileSync(join(dir, 'results.json'), JSON.stringify(bigRun(dir, 4)));
  const bin = tempDir('tgc-bin-');
  const opened = join(bin, 'opened');
  // Written whole, then renamed: the test may look between the file's creation and its content.
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${opened}.part && /bin/mv ${opened}.part ${opened}\n`, {
    mode: 0o755,
  });
  const cli = (env: Record<string, string>) => runCli(['report', dir, '--open'], '', env);
  const page = join(dir, 'report.html');

  const none = await cli({ PATH: join(bin, 'nothing-here') });
  assert.equal(none.code, 3);
  assert.equal(none.stdout, `${page}\n`, 'the page is written all the same');
  assert.match(none.stderr, /no desktop opener here \(xdg-open is not on PATH\); open .*report\.html in a browser/);
  const headless = await cli({ PATH: bin });
  assert.equal(headless.code, 3);
  assert.match(headless.stderr, /no desktop session \(DISPLAY is not set\)/);

  const ok = await cli({ PATH: bin, DISPLAY: ':0' });
  assert.equal(ok.code, 0, ok.stderr);
  for (let i = 0; i < 100 && !existsSync(opened); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(readFileSync(opened, 'utf8'), `${page}\n`);
});

test('results.json: one line per timeline event, and the same data when parsed back', () => {
  const dir = tempDir('tgc-report-');
  const report = bigRun(dir, 4);
  // A message that looks like the layout's own text changes nothing.
  const tricky = { ...report.instances[0]!, messages: ['\n  "timeline": [],', '"timeline": []'] };
  const input = { ...report, instances: [tricky, ...report.instances.slice(1)] };
  const text = resultsJson(input);
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(input)));
  const lines = text.split('\n');
  const at = lines.indexOf('  "timeline": [');
  assert.equal(lines[at + 1], `    ${JSON.stringify(report.timeline[0])},`);
  assert.equal(lines[at + report.timeline.length + 1], '  ],');
  assert.ok(resultsJson({ ...report, timeline: [] }).includes('\n  "timeline": [],\n'));
});

test("the plan's scheduled events are run-wide marks on the timeline, named below it", () => {
  const dir = tempDir('tgc-report-');
  const report = bigRun(dir, 4);
  const faults: TimelineEvent[] = [
    { t_ms: 1500, event: 'fault', name: 'cut', action: 'partition', result: 'applied' },
    { t_ms: 2500, event: 'fault', name: 'boom', action: 'kill', result: 'failed' },
  ];
  const timeline = [...report.timeline, ...faults].sort((a, b) => a.t_ms - b.t_ms);
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ ...report, timeline }));
  const html = readFileSync(writeReport(dir), 'utf8');
  assert.equal((html.match(/<span class="runmark" /g) ?? []).length, 2);
  assert.match(html, /<b>1<\/b> cut \(partition\) at 1\.50 s/);
  assert.match(html, /<b>2<\/b> boom \(kill, failed\) at 2\.50 s/);
});

test('services: a timeline row with what they signalled and the events that acted on them; their log', () => {
  const dir = tempDir('tgc-report-');
  const report = bigRun(dir, 4);
  writeFileSync(join(dir, 'logs/db-0.log'), 'db listening on 5432\n');
  const timeline: TimelineEvent[] = [
    ...report.timeline,
    { t_ms: 300, event: 'signal' as const, instance: 'db-0', state: 'db-up', count: 1 },
  ].sort((a, b) => a.t_ms - b.t_ms);
  const events = [
    {
      name: 'boom',
      action: 'kill',
      trigger: { at_ms: 1000 },
      delay_ms: 0,
      triggered_ms: 2000,
      t_ms: 2000,
      done_ms: 2010,
      instances: ['db-0'],
      result: 'applied' as const,
      error: null,
    },
  ];
  const services = [{ name: 'db-0', group: 'db', exit_code: 137, log: 'logs/db-0.log', outputs: 'outputs/db-0' }];
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ ...report, timeline, events, services }));
  const html = readFileSync(writeReport(dir), 'utf8');
  const row = /<div class="row" data-service="db-0">(.*?)<\/div>/.exec(html)?.[1] ?? '';
  assert.match(row, /class="life service" style="left:[0-9.]+%;width:/, 'a bar from its first event on');
  assert.match(row, /title="300 ms · signal db-up \(1\)"/);
  assert.match(row, /title="2\.00 s · boom \(kill\)"/);
  const entry = /<details class="instance" data-service="db-0">(.*?)<\/details>/.exec(html)?.[1] ?? '';
  assert.match(entry, /<dt>exit code<\/dt><dd>137<\/dd>/);
  assert.match(entry, /boom \(kill\) at 2\.00 s/);
  assert.match(entry, /db listening on 5432/);
});
