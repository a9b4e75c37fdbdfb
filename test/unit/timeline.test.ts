// The coordinator's timeline (results' `timeline`): what happened when, in order, bounded.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { MAX_RECORDS_PER_SERIES, Timeline } from '../../runtime/coordinator/timeline.js';
import type { TimelineEvent } from '../../protocol/messages.js';
import { connect } from '../../sdk/index.js';

test('the timeline keeps registrations, signals, records and outcomes at the times they happened', async (t) => {
  const c = new Coordinator({ instances: 2, plan: 'timeline' });
  const port = await c.listen(0);
  t.after(() => c.close());
  const env = (group: string) => connect({ coordinator: `127.0.0.1:${port}`, group, env: {} });
  const a = await env('a');
  const b = await env('b');
  await a.sync.signal('one');
  a.record('lag', 1.5, 'ms');
  await sleep(300);
  await b.sync.signal('two');
  await sleep(600);
  await a.sync.signal('three');
  await a.success();
  await b.failure('on purpose');
  const results = await c.ended;
  await Promise.all([a.close(), b.close()]);

  const ev = results.timeline;
  const kinds = ev.map((e) => `${e.event}${'instance' in e && e.instance ? `:${e.instance}` : ''}`);
  assert.deepEqual(kinds, [
    'registered:a-0',
    'registered:b-0',
    'mark',
    'signal:a-0',
    'record:a-0',
    'signal:b-0',
    'signal:a-0',
    'outcome:a-0',
    'outcome:b-0',
  ]);
  for (let i = 1; i < ev.length; i++) assert.ok(ev[i]!.t_ms >= ev[i - 1]!.t_ms, 'in time order');
  const at = (state: string) => ev.find((e) => e.event === 'signal' && e.state === state)!.t_ms;
  assert.ok(at('two') - at('one') >= 290, `one → two ${at('two') - at('one')} ms`);
  assert.ok(at('three') - at('two') >= 590, `two → three ${at('three') - at('two')} ms`);
  assert.deepEqual(ev[3], { t_ms: ev[3]!.t_ms, event: 'signal', instance: 'a-0', state: 'one', count: 1 });
  assert.deepEqual(ev[4], { t_ms: ev[4]!.t_ms, event: 'record', instance: 'a-0', metric: 'lag', value: 1.5 });
  assert.deepEqual(ev.at(-1), {
    t_ms: ev.at(-1)!.t_ms,
    event: 'outcome',
    instance: 'b-0',
    outcome: 'failure',
    reason: 'on purpose',
  });
  assert.equal(results.instances[0]!.registered_ms, ev[0]!.t_ms);
  assert.equal(results.timeline_dropped, 0);
});

test('the timeline is bounded: records past the per-series limit are counted, not kept', () => {
  const tl = new Timeline();
  const rec = (instance: string, i: number): TimelineEvent => ({
    t_ms: i,
    event: 'record',
    instance,
    metric: 'm',
    value: i,
  });
  for (let i = 0; i < MAX_RECORDS_PER_SERIES + 10; i++) tl.add(rec('x-0', i));
  tl.add(rec('x-1', 0));
  tl.add({ t_ms: 5, event: 'registered', instance: 'x-2' });
  assert.equal(tl.events.length, MAX_RECORDS_PER_SERIES + 2);
  assert.equal(tl.dropped, 10);
  assert.deepEqual(tl.events.at(-1), { t_ms: 5, event: 'registered', instance: 'x-2' });
});
