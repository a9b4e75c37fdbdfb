// Any program on the local target: exit codes as outcomes, names on the data network, a plan in Python.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkJunitSchema, repoRoot, results, tempDir, tgcRun } from '../support/helpers.js';
import { behaviourPlan, leftovers } from '../support/local-runs.js';
import { netSkipReason } from '../support/net-lab.js';

const skip = netSkipReason();

test(
  'examples/python-ping (the Python SDK): exit 0, rtt_ms ≈ 2000 ms',
  { skip: skip ?? (spawnSync('python3', ['--version']).error ? 'needs python3' : undefined), timeout: 120_000 },
  async () => {
    const r = await tgcRun('examples/python-ping/plan.toml');
    assert.equal(r.code, 0, r.said);
    const rtt = results(r.out).groups.runners.metrics.rtt_ms;
    assert.equal(rtt.count, 2);
    for (const v of [rtt.min, rtt.max]) assert.ok(v >= 1990 && v <= 2150, `rtt_ms ${v}`);
    assert.match(readFileSync(join(r.out, 'logs/runners-1.log'), 'utf8'), /rtt to runners-0/);
  },
);

test(
  'outcomes from exit codes: 0 without an outcome is success; 3 a failure with its code and log tail',
  { skip, timeout: 120_000 },
  async (t) => {
    // A plain program with no SDK at all: its exit code is its outcome.
    const dir = tempDir('tgc-plan-');
    const file = join(dir, 'plan.toml');
    writeFileSync(
      file,
      'version = 1\nname = "exits"\n[[groups]]\nid = "ok"\ninstances = 2\n' +
        'command = ["sh", "-c", "echo fine; exit 0"]\n',
    );
    const good = await tgcRun(file);
    assert.equal(good.code, 0, good.stderr + good.stdout);
    assert.deepEqual(
      results(good.out).instances.map((i: { outcome: string }) => i.outcome),
      ['success', 'success'],
    );
    const r = await tgcRun(
      behaviourPlan([
        ['waiter', 'hang', 1],
        ['quitter', 'exit3', 1],
      ]),
    );
    assert.equal(r.code, 1, r.stderr);
    const quitter = results(r.out).instances.find((i: { name: string }) => i.name === 'quitter-0');
    assert.equal(quitter.outcome, 'failure');
    assert.equal(quitter.exit_code, 3);
    assert.match(quitter.reason, /^exited with code 3\n(.|\n)*giving up: no quorum/);
    const junit = readFileSync(join(r.out, 'junit.xml'), 'utf8');
    assert.match(junit, /<failure type="failure" message="exited with code 3\n[^"]*giving up: no quorum/);
    await checkJunitSchema(t, join(r.out, 'junit.xml'));
    assert.deepEqual(await leftovers(r.out), []);
  },
);

test(
  'names: every instance name and group name resolves to data addresses inside every instance (TGC_PEERS agrees)',
  { skip, timeout: 120_000 },
  async () => {
    const file = join(tempDir('tgc-plan-'), 'plan.toml');
    writeFileSync(
      file,
      'version = 1\nname = "names"\n[defaults]\n' +
        `command = ["node", ${JSON.stringify(join(repoRoot, 'test/clients/resolve.mjs'))}]\n` +
        '[[groups]]\nid = "etcd"\ninstances = 3\n[[groups]]\nid = "checker"\ninstances = 1\n',
    );
    const r = await tgcRun(file);
    assert.equal(r.code, 0, r.said);
    for (const i of results(r.out).instances) assert.deepEqual(i.messages, ['resolved 4 names and 2 groups'], i.name);
    assert.ok(
      !readdirSync('/etc/netns').some((d) => d.includes(results(r.out).run_id.slice(-6))),
      'hosts files removed',
    );
  },
);

test(
  'a test in shell with tgc sync alone: every subcommand, on the PATH tgc gives it; its reported outcome stands',
  { skip, timeout: 120_000 },
  async () => {
    const script = join(repoRoot, 'test/clients/sync-shell.sh');
    const file = join(tempDir('tgc-plan-'), 'plan.toml');
    writeFileSync(
      file,
      `version = 1\nname = "shell"\n[defaults]\ncommand = [${JSON.stringify(script)}]\n` +
        '[[groups]]\nid = "sh"\ninstances = 3\n',
    );
    const r = await tgcRun(file);
    assert.equal(r.code, 0, r.said);
    const res = results(r.out);
    assert.deepEqual(
      res.instances.map((i: { metrics: { arrival: { last: number } } }) => i.metrics.arrival.last).sort(),
      [1, 2, 3],
    );
    for (const i of res.instances) {
      assert.match(i.messages[0], /^signal [123], gathered [123], published as [123]$/);
      assert.equal(readFileSync(join(r.out, 'outputs', i.name, 'names.jsonl'), 'utf8').split('\n').length, 4);
    }
    assert.equal(res.timeline.filter((e: { event: string }) => e.event === 'configure').length, 3);
    // A script that reports a failure and exits 0 keeps its failure.
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('instances = 3\n', 'instances = 1\nparams = { fail = true }\n'),
    );
    const failed = await tgcRun(file);
    assert.equal(failed.code, 1);
    assert.deepEqual(
      [results(failed.out).instances[0].outcome, results(failed.out).instances[0].reason],
      ['failure', 'asked to fail'],
    );
  },
);

test(
  'services: no outcome of their own, stopped at the end leaving nothing; an early exit fails the run',
  { skip, timeout: 120_000 },
  async () => {
    const file = join(tempDir('tgc-plan-'), 'plan.toml');
    const plan = (service: string, extra = '') =>
      writeFileSync(
        file,
        'version = 1\nname = "svc"\n[[groups]]\nid = "db"\nrole = "service"\ninstances = 2\n' +
          `command = ["sh", "-c", ${JSON.stringify(service)}]\n${extra}` +
          '[[groups]]\nid = "check"\ninstances = 1\ncommand = ["sh", "-c", "sleep 1"]\n',
      );
    plan('echo $$ > "$TGC_OUTPUTS/pid"; exec sleep 300');
    const ok = await tgcRun(file);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const res = results(ok.out);
    assert.deepEqual(
      res.instances.map((i: { name: string; outcome: string }) => [i.name, i.outcome]),
      [['check-0', 'success']],
    );
    assert.deepEqual(
      res.services.map((s: { name: string }) => s.name),
      ['db-0', 'db-1'],
    );
    for (const s of ['db-0', 'db-1']) {
      const pid = Number(readFileSync(join(ok.out, 'outputs', s, 'pid'), 'utf8'));
      assert.ok(pid > 0 && !isAlive(pid), `${s} (pid ${pid}) ran and was stopped`);
    }
    assert.deepEqual(await leftovers(ok.out), []);

    plan('echo starting; sleep 0.3; echo giving up; exit 4');
    const early = await tgcRun(file);
    assert.equal(early.code, 1);
    assert.match(results(early.out).reason, /^service db-[01] exited with code 4\n(.|\n)*giving up/);

    plan('sleep 0.3; exit 4', 'on_exit = "ignore"\n');
    const ignored = await tgcRun(file);
    assert.equal(ignored.code, 0, ignored.stderr + ignored.stdout);
  },
);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
