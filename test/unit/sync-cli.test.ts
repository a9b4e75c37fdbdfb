// `tgc sync` against a real coordinator: attaching to an instance without owning it, its outcome,
// and its exit codes — for both implementations: the CLI's (in process) and the static executable
// for images without Node.js (dist/native/tgc-sync, built from runtime/sync-client/ when Go is
// installed), which must behave the same.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { SYNC_USAGE } from '../../cli/sync/sync-main.js';
import { runCli, type CliResult } from '../support/helpers.js';

const STATIC = fileURLToPath(new URL('../../dist/native/tgc-sync', import.meta.url));
const noStatic = existsSync(STATIC)
  ? false
  : 'dist/native/tgc-sync is not built: npm run build builds it when Go (golang-go) is installed';

type Sync = (args: string[], env: Record<string, string>) => Promise<CliResult>;
const clients: [string, Sync, string | false][] = [
  ['tgc sync', (args, env) => runCli(['sync', ...args], '', env), false],
  [
    'tgc-sync (static)',
    async (args, env) => {
      const r = await execa(STATIC, ['sync', ...args], { env, extendEnv: false, reject: false });
      return { code: r.exitCode ?? -1, stdout: r.stdout ? r.stdout + '\n' : '', stderr: r.stderr };
    },
    noStatic,
  ],
];

async function start(t: { after: (fn: () => unknown) => void }, instances: number) {
  const c = new Coordinator({ instances, groups: { sh: instances } });
  const port = await c.listen(0);
  t.after(() => c.close());
  const env = (name: string) => ({ TGC_COORDINATOR: `127.0.0.1:${port}`, TGC_GROUP: 'sh', TGC_INSTANCE: name });
  return { c, env };
}

for (const [label, client, skip] of clients) {
  test(
    `${label} attaches to its instance: each call is one short connection, none of them a crash`,
    { skip },
    async (t) => {
      const { c, env } = await start(t, 2);
      const sync = (name: string, ...args: string[]) => client(args, env(name));
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
    },
  );

  test(`${label}: usage errors exit 2, no coordinator in the environment exits 3`, { skip }, async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['publish', 't', '{not json'],
      ['subscribe', 't'],
      ['record', 'x', 'y'],
      ['barrier', 's', '-1'],
      ['barrier', 's', '1.5'],
      ['configure', '{}', '--callback'],
      ['configure', '{}', '--to', 'b', '--bogus', 'x'],
      ['outcome', 'maybe'],
    ]) {
      const r = await client(args, {
        TGC_COORDINATOR: '127.0.0.1:1',
        TGC_GROUP: 'g',
        TGC_INSTANCE: 'g-0',
      });
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /Usage: tgc sync/);
    }
    const r = await client(['signal', 's'], {});
    assert.equal(r.code, 3);
    assert.match(r.stderr, /run it inside an instance/);
    assert.deepEqual(await client(['--help'], {}), { code: 0, stdout: SYNC_USAGE + '\n', stderr: '' });
  });
}
