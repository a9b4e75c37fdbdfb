// The compose target's one agent per Docker host: exactly one container per instance (plus the
// coordinator and the agent), both backends shaping from it, a deadline shorter than start-up,
// and a committed tree run by plain docker-compose without tgc.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { allVolumes, dockerSkipReason, leftovers } from '../support/docker-lab.js';
import { repoRoot, results, tempDir, tgcRun } from '../support/helpers.js';

const docker = dockerSkipReason();

/** The barrier-storm example as plan `name` with `instances` instances and the run's `timeout`. */
function stormPlan(name: string, instances: number, timeout: string): string {
  const dir = tempDir('tgc-storm-');
  const text = readFileSync(join(repoRoot, 'examples/barrier-storm/plan.toml'), 'utf8')
    .replace(/^#:schema .*\n/, '')
    .replace(/^name = .*$/m, `name = "${name}"`)
    .replace(/^instances = \d+$/m, `instances = ${instances}`)
    .replace(/^timeout = .*$/m, `timeout = "${timeout}"`);
  writeFileSync(join(dir, 'plan.toml'), text);
  return join(dir, 'plan.toml');
}

function runIdOf(stderr: string): string {
  const m = /tgc: run (\S+) /.exec(stderr);
  assert.ok(m, `no run id in:\n${stderr}`);
  return m[1]!;
}

/** The run's containers by component, as `docker ps` lists them now. */
function components(plan: string): string[] {
  return execFileSync(
    'docker',
    ['ps', '-a', '--filter', `label=dev.tgc.plan=${plan}`, '--format', '{{.Label "dev.tgc.component"}}'],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
}

test(
  'compose: exactly one container per instance, plus the coordinator and one agent',
  { skip: docker ?? false },
  async () => {
    const plan = stormPlan('one-each', 12, '2m');
    let most: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const now = components('one-each');
        if (now.length > most.length) most = now;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const r = await tgcRun(plan, ['--target', 'compose']);
    watching = false;
    await watch;
    assert.equal(r.code, 0, r.said);
    assert.equal(results(r.out).backend, 'userspace');
    const count = (c: string) => most.filter((x) => x === c).length;
    assert.equal(most.length, 14, `containers at most: ${most.join(', ')}`);
    assert.equal(count('instance'), 12);
    assert.equal(count('runtime'), 2, 'the coordinator and the agent');
    assert.deepEqual(leftovers(runIdOf(r.stderr)), []);
  },
);

test(
  'compose, kernel backend: the host agent shapes a 10 Mbit/s link with tc in the instance',
  { skip: docker ?? false },
  async () => {
    const dir = tempDir('tgc-kernel-');
    cpSync(join(repoRoot, 'examples/bandwidth'), dir, { recursive: true });
    const file = join(dir, 'plan.toml');
    // htb and u32 need no sch_netem: the kernel backend runs on this Docker host for a rate alone.
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^#:schema .*\n/, '') + '\n[network]\nshaping = "kernel"\n');
    const r = await tgcRun(file, ['--target', 'compose']);
    assert.equal(r.code, 0, r.said);
    const report = results(r.out);
    assert.equal(report.backend, 'kernel');
    const receiver = report.instances.find((i: { name: string }) => i.name === 'receiver-0');
    const mbit = receiver.metrics.mbit_s.mean as number;
    assert.ok(mbit > 9 && mbit < 10.5, `measured ${mbit} Mbit/s over a 10 Mbit/s link`);
    assert.deepEqual(leftovers(runIdOf(r.stderr)), []);
  },
);

test(
  'compose: a deadline shorter than start-up still leaves results, junit, logs and report; nothing runs after',
  { skip: docker ?? false },
  async () => {
    const volumes = allVolumes();
    const plan = stormPlan('short-deadline', 30, '6s');
    const r = await tgcRun(plan, ['--target', 'compose']);
    assert.equal(r.code, 1, r.said);
    assert.ok(r.ms < 6_000 + 30_000, `tgc took ${r.ms} ms for a 6 s deadline`);
    const report = results(r.out);
    assert.equal(report.outcome, 'failure');
    assert.equal(report.instances.length, 30);
    for (const i of report.instances) assert.equal(i.outcome, 'timeout', `${i.name}: ${i.outcome} ${i.reason}`);
    assert.ok(
      report.instances.some((i: { reason?: string }) => /never registered/.test(i.reason ?? '')),
      'some never registered',
    );
    for (const f of ['junit.xml', 'report.html']) assert.ok(existsSync(join(r.out, f)), f);
    assert.ok(readdirSync(join(r.out, 'logs')).length > 0, 'the logs of the containers that ran');
    assert.deepEqual(leftovers(runIdOf(r.stderr)), []);
    assert.deepEqual(components('short-deadline'), []);
    assert.deepEqual(allVolumes(), volumes, 'no volume left');
  },
);

test(
  'compose: the committed ping tree runs with plain docker-compose, shaped by its agent',
  { skip: docker ?? false },
  () => {
    const dir = tempDir('tgc-hand-');
    cpSync(join(repoRoot, 'examples/ping/generated/compose'), dir, { recursive: true });
    const project = `tgchand${process.pid}`;
    const env = { ...process.env, TGC_RUN_ID: project, TGC_CONTROL_SUBNET: '198.19.236.0/22' };
    const compose = (...args: string[]) =>
      spawnSync('docker-compose', ['-p', project, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    try {
      assert.equal(compose('up', '-d').status, 0);
      const coordinator = execFileSync(
        'docker',
        [
          'ps',
          '-aq',
          '--filter',
          `label=com.docker.compose.project=${project}`,
          '--filter',
          'label=com.docker.compose.service=coordinator',
        ],
        { encoding: 'utf8' },
      ).trim();
      const waited = spawnSync('docker', ['wait', coordinator], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(waited.stdout.trim(), '0', 'the coordinator exits 0: every instance succeeded');
      const logs = compose('logs', '--no-color', 'runners-0', 'runners-1').stdout;
      for (const m of logs.matchAll(/rtt to runners-\d: ([0-9.]+) ms/g)) {
        const rtt = Number(m[1]);
        assert.ok(rtt >= 1980 && rtt <= 2020, `rtt ${rtt} ms`);
      }
      assert.equal([...logs.matchAll(/rtt to runners-/g)].length, 2, logs);
    } finally {
      compose('down', '-v', '--timeout', '5');
    }
  },
);
