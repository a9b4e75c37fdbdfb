// report.html of real runs, opened in headless chromium with the network off.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserSkipReason, launch, openReport, screenshot } from '../support/browser.js';
import { repoRoot, results, runCli, tempDir, tgcRun } from '../support/helpers.js';
import { netSkipReason } from '../support/net-lab.js';
import { buildOutcomes, goSkip, outcomesPlan } from '../support/tg-outcomes.js';

const skip = netSkipReason() ?? browserSkipReason();
let browser: Browser | undefined;
before(async () => {
  if (!skip) browser = await launch();
});
after(() => browser?.close());

/**
 * Opens a run's report and checks what every report must show: no console error, no request
 * leaving the page, the verdict, one timeline row per instance, a drawn chart per metric.
 */
async function checkReport(out: string, name: string) {
  const res = results(out);
  const opened = await openReport(browser!, join(out, 'report.html'));
  const { page } = opened;
  const shot = await screenshot(page, `report-${name}`);
  assert.deepEqual(opened.errors, [], `console errors (screenshot: ${shot})`);
  assert.deepEqual(opened.requests, [], 'requests beyond the file');
  assert.equal(await page.textContent('h1 .verdict'), res.outcome === 'success' ? 'PASS' : 'FAIL');
  if (res.reason) assert.equal(await page.textContent('header .reason'), res.reason);
  const rows = await page.$$eval('.rows .row[data-instance]', (els) => els.map((e) => e.getAttribute('data-instance')));
  assert.deepEqual(
    rows,
    res.instances.map((i: { name: string }) => i.name),
  );
  const metrics = Object.entries(res.groups).flatMap(([g, r]: [string, any]) =>
    Object.keys(r.metrics).map((m) => `${g}/${m}`),
  );
  const charted = await page.$$eval('figure.metric', (figs) =>
    figs.map((f) => ({
      key: `${f.getAttribute('data-group')}/${f.getAttribute('data-metric')}`,
      drawn: Array.from(f.querySelectorAll('.chart')).every((c) => c.getAttribute('data-drawn') === 'true'),
      canvases: f.querySelectorAll('.chart canvas').length,
    })),
  );
  assert.deepEqual(
    charted.map((c) => c.key),
    metrics,
  );
  for (const c of charted) assert.ok(c.drawn && c.canvases >= 1, `${c.key}: chart drawn`);
  return { res, page };
}

test(
  'ping: report.html opens offline with no errors; tgc report on a copy gives the same page',
  { skip, timeout: 120_000 },
  async () => {
    const r = await tgcRun('examples/ping/plan.toml');
    assert.equal(r.code, 0, r.said);
    assert.match(r.stdout, new RegExp(`report: +${join(r.out, 'report.html')}\\n`));
    const { page } = await checkReport(r.out, 'ping');
    assert.match((await page.textContent('#network .matrix'))!, /runners.*latency 1000ms/s);
    assert.match((await page.textContent('details[data-instance="runners-0"] pre.log'))!, /rtt to runners-1/);

    const copy = join(tempDir('tgc-report-'), 'copied-run');
    cpSync(r.out, copy, { recursive: true });
    const original = readFileSync(join(copy, 'report.html'), 'utf8');
    writeFileSync(join(copy, 'report.html'), 'stale');
    const again = await runCli(['report', copy]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `${join(copy, 'report.html')}\n`);
    assert.equal(readFileSync(join(copy, 'report.html'), 'utf8'), original);
  },
);

test(
  'a failing run: FAIL and the reason at the top, the failed instance open with its reason',
  { skip, timeout: 120_000 },
  async () => {
    const r = await tgcRun('examples/failing/plan.toml');
    assert.equal(r.code, 1, r.said);
    const { res, page } = await checkReport(r.out, 'failing');
    const failed = res.instances.find((i: { outcome: string }) => i.outcome === 'failure');
    const details = page.locator(`details[data-instance="${failed.name}"]`);
    assert.equal(await details.getAttribute('open'), '');
    assert.match((await details.locator('summary').textContent())!, new RegExp(`failure ${failed.name} — `));
    assert.ok((await page.textContent('#groups td.failure')) === '1');
  },
);

test('barrier-storm, 50 instances: 50 rows, every chart drawn', { skip, timeout: 180_000 }, async () => {
  const r = await tgcRun('examples/barrier-storm/plan.toml');
  assert.equal(r.code, 0, r.said);
  const { res } = await checkReport(r.out, 'barrier-storm');
  assert.equal(res.instances.length, 50);
});

test('the timeline places marks at their recorded times: order and spacing', { skip, timeout: 120_000 }, async () => {
  const dir = tempDir('tgc-plan-');
  const plan = join(dir, 'plan.toml');
  writeFileSync(
    plan,
    `version = 1\nname = "paced"\n[network]\nshaping = "off"\n[defaults]\n` +
      `command = ["node", ${JSON.stringify(join(repoRoot, 'test/clients/behave.mjs'))}]\n` +
      `[[groups]]\nid = "p"\ninstances = 2\nparams = { mode = "paced" }\n`,
  );
  const r = await tgcRun(plan);
  assert.equal(r.code, 0, r.said);
  const { res, page } = await checkReport(r.out, 'paced');
  // The series chart exists: tick was recorded five times per instance.
  assert.equal(await page.locator('figure.metric[data-metric="tick"] .chart[data-kind="series"] canvas').count(), 1);
  for (const name of ['p-0', 'p-1']) {
    const marks = await page.$$eval(`.rows .row[data-instance="${name}"] .mark`, (els) =>
      els.map((e) => {
        const box = e.getBoundingClientRect();
        return {
          x: box.left + box.width / 2,
          t: Number(e.getAttribute('data-t')),
          state: e.getAttribute('data-state'),
        };
      }),
    );
    // Every mark's position is linear in its recorded time (one scale for the row), to a pixel.
    const [first, last] = [marks[0]!, marks.at(-1)!];
    const scale = (last.x - first.x) / (last.t - first.t);
    for (const m of marks) assert.ok(Math.abs(first.x + (m.t - first.t) * scale - m.x) < 1, `${name} mark at ${m.t}`);
    for (let i = 1; i < marks.length; i++) assert.ok(marks[i]!.x >= marks[i - 1]!.x, 'left to right in time order');
    // And the recorded times are the program's: a → b ≈ 500 ms, b → c ≈ 1000 ms, so twice the distance.
    const x = (s: string) => marks.find((m) => m.state === s)!.x;
    const ratio = (x('c') - x('b')) / (x('b') - x('a'));
    assert.ok(ratio > 1.7 && ratio < 2.2, `spacing ratio ${ratio}`);
    const signals = res.timeline.filter((e: any) => e.event === 'signal' && e.instance === name);
    assert.deepEqual(
      signals.map((e: any) => e.state),
      ['started', 'a', 'b', 'c'],
    );
  }
});

test('tgc report on a directory without results.json: exit 2 with the reason', async () => {
  const dir = tempDir('tgc-report-');
  const r = await runCli(['report', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /results\.json: no such file: .* is not a run directory/);
  writeFileSync(join(dir, 'results.json'), '{"run_id": ');
  const bad = await runCli(['report', dir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /results\.json: not JSON/);
  writeFileSync(join(dir, 'results.json'), '{"hello": 1}');
  const other = await runCli(['report', dir]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /not a tgc results\.json \(no run_id, plan, outcome, instances, groups\)/);
});

test(
  'sdk-go metrics: a histogram and a timer drawn as distributions, diagnostics in their own section',
  { skip: skip ?? goSkip, timeout: 120_000 },
  async () => {
    const program = buildOutcomes(tempDir('tgc-report-go-'));
    const r = await tgcRun(outcomesPlan({ program }, 'metrics'));
    assert.equal(r.code, 0, r.said);
    const { page } = await checkReport(r.out, 'sdkgo-metrics');
    for (const metric of ['size', 'rtt'])
      assert.equal(await page.getAttribute(`figure.metric[data-metric="${metric}"] .chart`, 'data-kind'), 'quantiles');
    assert.match((await page.textContent('figure.metric[data-metric="rtt"]'))!, /g-1.*0\.00250 s/s);
    assert.match((await page.textContent('#diagnostics'))!, /runtime\.MemStats\.Alloc/);
    assert.doesNotMatch((await page.textContent('#metrics'))!, /MemStats/);
  },
);
