// `tgc sync`, in-process against a real coordinator: attaching to an instance without owning it,
// its outcome, and its exit codes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { runCli } from '../support/helpers.js';

async function start(t: { after: (fn: () => unknown) => void }, instances: number) {
  const c = new Coordinator({ instances, groups: { sh: instances } });
  const port = await c.listen(0);
  t.after(() => c.close());
  const env = (name: string) => ({ TGC_COORDINATOR: `127.0.0.1:${port}`, TGC_GROUP: 'sh', TGC_INSTANCE: name });
  return { c, env };
}

test('tgc sync attaches to its instance: each call is one short connection, none of them a crash', async (t) => {
  const { c, env } = await start(t, 2);
  const sync = (name: string, ...args: string[]) => runCli(['sync', ...args], '', env(name));
  assert.deepEqual(await sync('sh-0', 'signal', 'ready'), { code: 0, stdout: '1\n', stderr: '' });
  assert.equal((await sync('sh-0', 'publish', 'names', '{"n":0}')).stdout, '1\n');
  // Closing those connections crashed nothing; both calls spoke for the same instance.
  assert.equal(c.status().registered, 1);
  assert.equal(c.status().outcomes.crash, undefined);
  const waiting = sync('sh-1', 'signal-wait', 'ready');
  assert.equal((await sync('sh-1', 'publish', 'names', '"one"')).code, 0);
  assert.deepEqual(await waiting, { code: 0, stdout: '2\n', stderr: '' });
  assert.equal((await sync('sh-0', 'subscribe', 'names', '--take', '2')).stdout, '{"n":0}\n"one"\n');
  assert.equal((await sync('sh-0', 'record', 'lat', '1.5', 'ms')).code, 0);
  assert.equal((await sync('sh-0', 'message', 'hello')).code, 0);
  assert.equal((await sync('sh-0', 'wait-network')).code, 0);
  const noAgent = await sync('sh-0', 'configure', '{"latency":"10ms"}');
  assert.equal(noAgent.code, 2);
  assert.match(noAgent.stderr, /no shaping agent is connected for sh-0/);
  assert.equal((await sync('sh-0', 'outcome', 'success')).code, 0);
  assert.equal((await sync('sh-1', 'outcome', 'failure', 'the answer was 41')).code, 0);
  const results = await c.ended;
  const byName = Object.fromEntries(results.instances.map((i) => [i.name, i]));
  assert.deepEqual([byName['sh-0']!.outcome, byName['sh-0']!.messages], ['success', ['hello']]);
  assert.equal(byName['sh-0']!.metrics.lat!.last, 1.5);
  assert.deepEqual([byName['sh-1']!.outcome, byName['sh-1']!.reason], ['failure', 'the answer was 41']);
  // After the end: exit 1.
  const late = await sync('sh-0', 'signal', 'late');
  assert.equal(late.code, 1);
  assert.match(late.stderr, /the run has ended/);
});

test('tgc sync: usage errors exit 2, no coordinator in the environment exits 3', async () => {
  for (const args of [[], ['frobnicate'], ['publish', 't', '{not json'], ['subscribe', 't'], ['record', 'x', 'y']]) {
    const r = await runCli(['sync', ...args], '', {
      TGC_COORDINATOR: '127.0.0.1:1',
      TGC_GROUP: 'g',
      TGC_INSTANCE: 'g-0',
    });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /Usage: tgc sync/);
  }
  const r = await runCli(['sync', 'signal', 's'], '', {});
  assert.equal(r.code, 3);
  assert.match(r.stderr, /run it inside an instance/);
});
