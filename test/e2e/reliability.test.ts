// What outlives tgc: nothing. As root, a `kill -9` of tgc mid-run ends every process of the run
// within 5 s (the reaper started beside it, targets/driver/reaper.ts). Runs side by side: two
// compose runs of the ping example at once, each measuring its own 2 × 1000 ms.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerSkipReason, leftovers } from '../support/docker-lab.js';
import { bin, repoRoot, results, tempDir, tgcRun } from '../support/helpers.js';
import { netSkipReason } from '../support/net-lab.js';

function namespaces(tag: string): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`tgc-${tag}-`));
}

function pidsIn(ns: string): number[] {
  return spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  'kill -9 of a root tgc with two hanging instances: no instance process after 5 s, nothing left',
  { skip: netSkipReason(), timeout: 60_000 },
  async () => {
    const out = join(tempDir('tgc-reap-'), 'run');
    const tgc = spawn(process.execPath, [bin, 'run', join(repoRoot, 'test/fixtures/hang/plan.toml'), '--out', out], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    tgc.stderr.on('data', (d: Buffer) => (stderr += d));
    // The run's tag: the end of its id, in its namespaces' names.
    let pids: number[] = [];
    let tag = '';
    for (let i = 0; i < 200 && pids.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      tag = /tgc: run \d{8}-\d{6}-([0-9a-f]{6})/.exec(stderr)?.[1] ?? '';
      if (tag) pids = namespaces(tag).flatMap(pidsIn);
    }
    // Each instance: its shell and its sleep, in its namespace.
    assert.ok(pids.length >= 4, `both instances running: ${pids.join(', ')}\n${stderr}`);
    const gone = new Promise((r) => tgc.once('exit', r));
    tgc.kill('SIGKILL');
    await gone;
    const t0 = Date.now();
    while (pids.some(alive) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(pids.filter(alive), [], 'every instance process ended within 5 s');
    while (namespaces(tag).length > 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(namespaces(tag), [], 'its namespaces removed');
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(links, new RegExp(`tgc[bvdwx]${tag}`), 'its links removed');
  },
);

test(
  'two compose runs at once: both pass with their 2 × 1000 ms, nothing left of either',
  { skip: dockerSkipReason() ?? false, timeout: 300_000 },
  async () => {
    const runs = await Promise.all([0, 1].map(() => tgcRun('examples/ping/plan.toml', ['--target', 'compose'])));
    for (const r of runs) {
      assert.equal(r.code, 0, r.said);
      for (const i of results(r.out).instances) {
        const rtt = i.metrics.rtt_ms.mean as number;
        assert.ok(rtt >= 1980 && rtt <= 2150, `${i.name}: rtt ${rtt} ms`);
      }
      const id = /tgc: run (\S+) /.exec(r.stderr)![1]!;
      assert.deepEqual(leftovers(id), []);
    }
  },
);

test(
  'kill -9 of a compose run mid-run: its reaper removes its containers, networks and volumes',
  { skip: dockerSkipReason() ?? false, timeout: 180_000 },
  async () => {
    const out = join(tempDir('tgc-reap-compose-'), 'run');
    const tgc = spawn(
      process.execPath,
      [
        bin,
        'run',
        join(repoRoot, 'test/fixtures/hang/plan.toml'),
        '--target',
        'compose',
        '--image',
        'tgc-examples:latest',
        '--out',
        out,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    tgc.stderr.on('data', (d: Buffer) => (stderr += d));
    let id = '';
    const running = () =>
      spawnSync(
        'docker',
        ['ps', '-q', '--filter', `label=dev.tgc.run=${id}`, '--filter', 'label=dev.tgc.group=sleepers'],
        {
          encoding: 'utf8',
        },
      )
        .stdout.split('\n')
        .filter(Boolean);
    for (let i = 0; i < 600 && !(id && running().length === 2); i++) {
      await new Promise((r) => setTimeout(r, 200));
      id = /tgc: run (\S+) /.exec(stderr)?.[1] ?? '';
    }
    assert.equal(running().length, 2, `both instances running:\n${stderr}`);
    const gone = new Promise((r) => tgc.once('exit', r));
    tgc.kill('SIGKILL');
    await gone;
    const t0 = Date.now();
    while (leftovers(id).length > 0 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(leftovers(id), []);
  },
);
