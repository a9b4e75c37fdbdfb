// Testground's outcome and metric rules, with a Go plan on the sync-service dialect
// (test/fixtures/testground/outcomes): every instance runs to its end, events printed on stdout
// are no outcome, a connected instance that never reports times out as such, and sdk-go's metric
// files are read by their kinds — on the local target and on compose.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { buildTestImage, dockerSkipReason } from '../support/docker-lab.js';
import { results, tempDir, tgcRun } from '../support/helpers.js';
import { netSkipReason } from '../support/net-lab.js';
import { buildOutcomes, goSkip, outcomesPlan } from '../support/tg-outcomes.js';

const localSkip = netSkipReason() ?? goSkip;
const composeSkip = dockerSkipReason() ?? goSkip;
const IMAGE = 'tgc-test-tg-outcomes:latest';
// Made here, not in the hook: a directory made in a hook is removed when the hook ends.
const dir = tempDir('tgc-tg-outcomes-');
let program = '';

before(() => {
  if (goSkip) return;
  program = buildOutcomes(dir);
  if (!composeSkip) buildTestImage(IMAGE, { [program]: '/usr/local/bin/outcomes' }, ['/usr/local/bin/outcomes']);
});

/** The plan's program in `mode`: the binary on the local target, its image in containers. */
const plan = (mode: string, o: Parameters<typeof outcomesPlan>[2] & { container?: boolean } = {}) =>
  outcomesPlan(o.container ? { image: IMAGE } : { program }, mode, o);

const outcomes = (out: string) =>
  Object.fromEntries(results(out).instances.map((i: any) => [i.name, [i.outcome, i.reason]]));

for (const target of ['local', 'compose'] as const) {
  const skip = target === 'local' ? localSkip : composeSkip;
  const args = target === 'local' ? [] : ['--target', 'compose'];
  const container = target === 'compose';

  test(
    `${target}: every instance runs to its end (1 crash + 1 success); on_failure = "stop" stops the other`,
    {
      skip,
      timeout: 240_000,
    },
    async () => {
      const r = await tgcRun(plan('continue', { container }), args);
      assert.equal(r.code, 1, r.said);
      const got = outcomes(r.out);
      const crashed = Object.values(got).filter(([o]) => o === 'crash');
      const succeeded = Object.values(got).filter(([o]) => o === 'success');
      assert.equal(crashed.length, 1, JSON.stringify(got));
      assert.equal(succeeded.length, 1, JSON.stringify(got));
      assert.match(crashed[0]![1], /^crashing as asked\ngoroutine 1/);
      assert.match(results(r.out).reason, /^1 of 2 did not succeed; first: g-\d crashed: crashing as asked/);
      const junit = readFileSync(join(r.out, 'junit.xml'), 'utf8');
      assert.match(junit, /<testsuites [^>]*tests="2" failures="0" errors="1"/);
      assert.match(r.stdout, /^g +1\/2$/m);

      const stop = await tgcRun(plan('continue', { container, run: 'on_failure = "stop"' }), args);
      assert.equal(stop.code, 1, stop.stderr + stop.stdout);
      assert.deepEqual(
        Object.values(outcomes(stop.out))
          .map(([o]) => o)
          .sort(),
        ['crash', 'stopped'],
      );
    },
  );

  test(`${target}: sdk-go's metrics by their kinds, diagnostics apart`, { skip, timeout: 240_000 }, async () => {
    const r = await tgcRun(plan('metrics', { container }), args);
    assert.equal(r.code, 0, r.said);
    const res = results(r.out);
    for (const i of res.instances) {
      const m = i.metrics;
      assert.deepEqual([m.bytes.kind, m.bytes.count, m.bytes.mean, m.bytes.last], ['point', 2, 200, 300]);
      assert.deepEqual([m.msgs.kind, m.msgs.count, m.msgs.last], ['counter', 1, 5], 'the last snapshot');
      assert.deepEqual([m.hits.kind, m.hits.last, m.hits.rates], ['meter', 7, { m1: 1.5, m5: 1.2, m15: 1.1, mean: 2 }]);
      assert.equal(m.size.kind, 'histogram');
      assert.deepEqual(m.size.distribution, {
        count: 4,
        min: 1,
        max: 10,
        mean: 4,
        stddev: 3.5355,
        p50: 2.5,
        p75: 5,
        p95: 10,
        p99: 10,
        p999: 10,
        p9999: 10,
      });
      assert.deepEqual([m.rtt.kind, m.rtt.unit, m.rtt.mean, m.rtt.max], ['timer', 's', 0.0025, 0.004]);
      assert.deepEqual([m.rtt.distribution.p50, m.rtt.rates.mean], [0.0025, 0.8]);
      assert.ok(!Object.keys(m).some((k) => k.includes('MemStats')), 'no diagnostics among the metrics');
      assert.equal(i.diagnostics['runtime.MemStats.Alloc'].kind, 'gauge');
      assert.ok(i.diagnostics['runtime.MemStats.Alloc'].last > 0);
    }
    const g = res.groups.g;
    assert.deepEqual([g.metrics.size.count, g.metrics.size.mean], [8, 4]);
    assert.equal(g.metrics.size.distribution.p50, undefined, 'a group has no percentiles');
    assert.ok(Math.abs(g.metrics.size.distribution.stddev - 3.5355) < 1e-9, 'pooled');
    assert.deepEqual([g.metrics.msgs.count, g.metrics.msgs.sum], [2, 10]);
    assert.equal(g.diagnostics['runtime.MemStats.NumGC'].count, 2);
    assert.doesNotMatch(r.stdout, /MemStats/, 'diagnostics stay out of the terminal');
    assert.match(r.stdout, /size \(histogram\): mean 4, stddev 3\.54, min 1, max 10 \(8 samples\)/);
    const html = readFileSync(join(r.out, 'report.html'), 'utf8');
    assert.match(html, /<section id="diagnostics">/);
    assert.match(html, /data-metric="size" data-kind="quantiles"/);
  });

  test(
    `${target}: a success printed on stdout only is a failure; a connected instance times out as such`,
    {
      skip,
      timeout: 240_000,
    },
    async () => {
      const printed = await tgcRun(plan('stdout', { container, instances: 1 }), args);
      assert.equal(printed.code, 1, printed.stderr + printed.stdout);
      assert.deepEqual(outcomes(printed.out)['g-0'], [
        'failure',
        'printed success_event on stdout but sent no run event',
      ]);
      // Long enough to start and connect, short enough to pass while it hangs.
      const deadline = container ? 25 : 8;
      const hang = await tgcRun(plan('hang', { container, instances: 1, timeout: `${deadline}s` }), args);
      assert.equal(hang.code, 1, hang.stderr + hang.stdout);
      assert.deepEqual(outcomes(hang.out)['g-0'], ['timeout', 'connected, no outcome']);
      assert.match(results(hang.out).reason, /deadline .* passed: 1 timed out$/);
      assert.ok(hang.ms < (deadline + 30) * 1000, `ended in ${hang.ms} ms`);
    },
  );

  test(
    `${target}: network.Config rules per subnet: a latency, reject (refused at once), drop (silence)`,
    { skip, timeout: 240_000 },
    async () => {
      const r = await tgcRun(plan('rules', { container, instances: 4 }), args);
      assert.equal(r.code, 0, r.said);
      const prober = results(r.out).instances.find((i: any) => i.metrics.connect_ms);
      assert.ok(prober, 'the first instance measured');
      // What the rule adds to a connect over the data path as it was before (a userspace wire on a
      // loaded machine takes a few milliseconds of its own).
      const added = prober.metrics.connect_ms.last - prober.metrics.base_connect_ms.last;
      assert.ok(added >= 95 && added <= 105, `a 100 ms rule added ${added} ms: ${prober.messages.join('; ')}`);
      assert.ok(prober.metrics.reject_ms.last < 100, `refused in ${prober.metrics.reject_ms.last} ms`);
      assert.match(prober.messages.join('\n'), /drop rule: 1[5-9]\d\d\.\d+ ms, .*timeout/);
    },
  );

  test(
    `${target}: network.Config IPv4 (a /12 mask): the instance moves, a peer reaches it there and by name, ` +
      'not at the old address',
    { skip, timeout: 240_000 },
    async () => {
      const r = await tgcRun(plan('readdress', { container }), args);
      assert.equal(r.code, 0, r.said);
      const res = results(r.out);
      const said = res.instances.flatMap((i: any) => i.messages).join('\n');
      const m = /moved (\S+) → (\S+): the new one answers, the old one does not/.exec(said);
      assert.ok(m, said);
      // results.json has the address it ended with.
      const ips = res.instances.map((i: any) => i.data_ip);
      assert.ok(ips.includes(m[2]) && !ips.includes(m[1]), JSON.stringify(ips));
    },
  );

  test(
    `${target}: the data address is the only IPv4 address: a lookup by TEST_SUBNET widened to /8 finds it`,
    { skip, timeout: 240_000 },
    async () => {
      const r = await tgcRun(plan('addresses', { container }), args);
      assert.equal(r.code, 0, r.said);
    },
  );
}
