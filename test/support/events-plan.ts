import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { tempDir } from './helpers.js';

/**
 * The scheduled-events plan both targets run: two services answering on TCP 7000, a checker
 * (test/clients/events-checker.mjs) in step with a partition at a state, a link change at a
 * time, a heal, a kill and a restart. `program(file)` says how an instance runs a test client.
 */
export function eventsPlan(
  program: (file: string) => string[],
  o: {
    /** Lines for [defaults] (image = …). */
    readonly defaults?: string;
    /** The kernel backend without sch_netem: the link change is a rate, which the checker does not time. */
    readonly kernel?: boolean | 'mark';
  } = {},
): string {
  const file = join(tempDir('tgc-plan-'), 'plan.toml');
  const cmd = (f: string) => JSON.stringify(program(f));
  writeFileSync(
    file,
    `version = 1
name = "events"
[run]
timeout = "3m"
${o.kernel ? `[network]\nshaping = "kernel"\n${o.kernel === 'mark' ? 'classify = "mark"\n' : ''}` : ''}[defaults]
command = ${cmd('events-service.mjs')}
${o.defaults ?? ''}
[[groups]]
id = "srv"
role = "service"
instances = 2
[[groups]]
id = "checker"
instances = 1
command = ${cmd('events-checker.mjs')}
params = { time_the_link = ${!o.kernel} }

[[events]]
name = "cut"
after = { state = "ready" }
partition = [["checker", "srv-0"], ["srv-1"]]

[[events]]
name = "slow"
at = "4s"
link = { from = "checker", to = "srv-0", ${o.kernel ? 'bandwidth = "10Mbit"' : 'latency = "200ms"'} }

[[events]]
name = "heal"
after = { state = "healing" }
heal = true

[[events]]
name = "kill"
after = { state = "killing" }
kill = "srv-1"

[[events]]
name = "restart"
after = { state = "event:kill" }
delay = "1s"
restart = "srv-1"

[[events]]
name = "pause"
after = { state = "pausing" }
pause = "srv-0"

[[events]]
name = "resume"
after = { state = "event:pause" }
delay = "2s"
resume = "srv-0"
`,
  );
  return file;
}

/**
 * Checks a run of `eventsPlan`: the checker measured every effect, and results.json's events
 * happened within 200 ms of their triggers (a state's signal, or the last network ready).
 */
export function checkEventsRun(r: Record<string, any>, o: { readonly kernel?: boolean | 'mark' } = {}): void {
  assert.equal(r.outcome, 'success', r.reason);
  const checker = r.instances.find((i: { name: string }) => i.name === 'checker-0');
  assert.deepEqual(
    checker.messages.map((m: string) => m.slice(0, m.indexOf(':'))),
    [
      ...['before', 'before', 'cut', 'cut', 'slow', ...(o.kernel ? [] : ['slow'])],
      ...['heal', 'kill', 'restart', 'pause', 'resume'],
    ],
  );
  const connect = checker.metrics.connect_ms.last;
  if (!o.kernel) assert.ok(connect >= 195 && connect < 450, `connect over the slowed link: ${connect} ms`);
  const events = r.events as Record<string, any>[];
  assert.deepEqual(events.map((e) => e.name).sort(), ['cut', 'heal', 'kill', 'pause', 'restart', 'resume', 'slow']);
  for (const e of events) {
    assert.equal(e.result, 'applied', `${e.name}: ${e.error}`);
    assert.ok(
      e.done_ms >= e.t_ms && e.done_ms - e.t_ms < 15_000,
      `${e.name}: done ${e.done_ms - e.t_ms} ms after it began`,
    );
  }
  const timeline = r.timeline as Record<string, any>[];
  const signalled = (state: string) => timeline.find((t) => t.event === 'signal' && t.state === state)?.t_ms;
  const ready = Math.max(...timeline.filter((t) => t.event === 'network-ready').map((t) => t.t_ms));
  const byName = Object.fromEntries(events.map((e) => [e.name, e]));
  // Both times are rounded to the millisecond on their own: one may read 1 ms before the other.
  const near = (got: number, want: number, what: string) =>
    assert.ok(got >= want - 1 && got - want <= 200, `${what}: at ${got} ms, its trigger says ${want} ms`);
  near(byName.cut.t_ms, signalled('ready'), 'cut');
  near(byName.slow.t_ms, ready + 4000, 'slow');
  near(byName.heal.t_ms, signalled('healing'), 'heal');
  near(byName.kill.t_ms, signalled('killing'), 'kill');
  // event:<name> is signalled once that event is applied: its done time is the trigger.
  near(byName.restart.t_ms, byName.kill.done_ms + 1000, 'restart');
  near(byName.pause.t_ms, signalled('pausing'), 'pause');
  near(byName.resume.t_ms, byName.pause.done_ms + 2000, 'resume');
  assert.deepEqual(
    timeline.filter((t) => t.event === 'fault').map((t) => t.name),
    events.map((e) => e.name),
  );
}
