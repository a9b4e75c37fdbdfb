// Rootless local runs (targets/local/rootless.ts), as a person without root runs them: the
// user `nobody`, the repository read-only, the run directory its own. Root is needed here only
// to become `nobody`, to give /dev/net/tun the mode Debian, Ubuntu and Fedora ship (0666; put
// back after) and to look for leftovers.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bin, repoRoot, tempDir, tgcRun } from '../support/helpers.js';
import { netSkipReason, schedPolicy } from '../support/net-lab.js';

const NOBODY = 65534;

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to become the user nobody and to set /dev/net/tun (CI runs as root)';
  for (const tool of ['setpriv', 'unshare', 'ip', 'mount', 'python3']) {
    if (spawnSync(tool, ['--version']).error)
      return `needs ${tool} on PATH (apt-get install util-linux iproute2 python3)`;
  }
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  if (spawnSync('unshare', ['--user', '--map-root-user', '--net', 'true']).status !== 0) {
    return 'needs user namespaces (this kernel or its sysctls refuse them)';
  }
  return undefined;
}
const skip = skipReason();

let tunMode: number | undefined;
before(() => {
  if (skip) return;
  tunMode = statSync('/dev/net/tun').mode & 0o7777;
  chmodSync('/dev/net/tun', 0o666);
});
after(() => {
  if (tunMode !== undefined) chmodSync('/dev/net/tun', tunMode);
});

/** What of nobody's was in /tmp before, and the directories this file gave it: anything else is a leftover. */
const given: string[] = [];
const nobodysFiles = () =>
  readdirSync('/tmp')
    .map((f) => join('/tmp', f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.uid === NOBODY);
const existing = skip ? [] : nobodysFiles();

/** A directory `nobody` owns: its HOME and its run directories. */
function nobodyDir(): string {
  const dir = tempDir('tgc-rootless-');
  chownSync(dir, NOBODY, NOBODY);
  given.push(dir);
  return dir;
}

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const SETPRIV = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

/** `tgc …` as `nobody` (by `become`) from the repository; `onStderr` may signal the process. */
function asNobody(
  args: string[],
  home: string,
  onStderr?: (text: string, pid: number) => void,
  become: readonly string[] = SETPRIV,
) {
  return new Promise<Run>((resolve) => {
    const argv = [...become, 'env', `HOME=${home}`, process.execPath, bin, ...args];
    const proc = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, proc.pid!);
    });
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Live processes of `nobody` (zombies, already ended, aside), and files it owns in /tmp outside its directories. */
function leftovers(): string[] {
  const ps = spawnSync('ps', ['-u', String(NOBODY), '-o', 'pid=,stat=,args='], { encoding: 'utf8' }).stdout;
  const live = ps
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^\d+\s+Z/.test(l));
  const files = nobodysFiles().filter((f) => !given.includes(f) && !existing.includes(f));
  return [...live, ...files];
}

/** Waits until `nobody` has no live process left (the kernel ends a PID namespace's processes at once). */
async function settled(): Promise<string[]> {
  for (let i = 0; i < 50 && leftovers().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return leftovers();
}

test('rootless: the ping example as nobody, shaped (2 × 1000 ms), its files owned by nobody', { skip }, async () => {
  const home = nobodyDir();
  const out = join(home, 'run');
  const r = await asNobody(['run', 'examples/ping/plan.toml', '--out', out], home);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stderr, /target local \(rootless: not root, so in a user namespace of its own\) · shaping userspace/);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  for (const i of results.instances) {
    const rtt = i.metrics.rtt_ms.mean as number;
    assert.ok(rtt >= 1990 && rtt <= 2150, `${i.name}: rtt ${rtt} ms`);
  }
  for (const f of ['results.json', 'junit.xml', 'logs/runners-0.log', 'logs/runners-1.log', 'outputs/runners-0']) {
    assert.equal(statSync(join(out, f)).uid, NOBODY, `${f} belongs to nobody`);
  }
  assert.match(readFileSync(join(out, 'logs/runners-0.log'), 'utf8'), /rtt to runners-1/);
  assert.deepEqual(readdirSync(home), ['run'], 'nothing written outside the run directory');
  assert.deepEqual(await settled(), []);
});

test('rootless: the partition and bandwidth examples pass as nobody', { skip, timeout: 120_000 }, async () => {
  for (const example of ['partition', 'bandwidth']) {
    const home = nobodyDir();
    const r = await asNobody(['run', `examples/${example}/plan.toml`, '--out', join(home, 'run')], home);
    assert.equal(r.code, 0, `${example}: ${r.stderr}${r.stdout}`);
    assert.match(r.stdout, new RegExp(`PASS ${example}`));
    assert.deepEqual(await settled(), []);
  }
});

test(
  'rootless: the native wire yields under a flood as nobody too (SCHED_BATCH), and after it not',
  { skip },
  async (t) => {
    if (!existsSync(join(repoRoot, 'dist/native/tgc-wire')))
      return t.skip('needs the native wire (gcc at npm run build)');
    const home = nobodyDir();
    const plan = join(home, 'plan.toml');
    writeFileSync(
      plan,
      'version = 1\nname = "flood"\n[run]\ntimeout = "1m"\n' +
        `[defaults]\ncommand = ["node", ${JSON.stringify(join(repoRoot, 'test/clients/udp-flood.mjs'))}]\n` +
        'params = { seconds = 3 }\n[network]\nlatency = "1ms"\n' +
        '[[groups]]\nid = "sender"\ninstances = 1\n[[groups]]\nid = "receiver"\ninstances = 1\n',
    );
    // the wire's scheduling policy over the run, each change once (0 SCHED_OTHER, 3 SCHED_BATCH)
    const seen: number[] = [];
    const policy = () => {
      const pids = spawnSync('pgrep', ['-u', String(NOBODY), '-x', 'tgc-wire'], { encoding: 'utf8' }).stdout;
      const pid = pids.split('\n')[0];
      try {
        return pid ? schedPolicy(pid) : undefined;
      } catch {
        return undefined; // gone between the two looks
      }
    };
    const watch = setInterval(() => {
      const now = policy();
      if (now !== undefined && now !== seen.at(-1)) seen.push(now);
    }, 50);
    const r = await asNobody(['run', plan, '--out', join(home, 'run')], home).finally(() => clearInterval(watch));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /shaping userspace/);
    assert.deepEqual(seen.slice(-2), [3, 0], `policies seen in turn: ${seen.join(', ')}`);
    const results = JSON.parse(readFileSync(join(home, 'run/results.json'), 'utf8'));
    const received = results.instances.find((i: { group: string }) => i.group === 'receiver').metrics.received.mean;
    t.diagnostic(`policies in turn ${seen.join(', ')}; ${received} datagrams through`);
    assert.ok(received > 10_000, `${received} datagrams through`);
    assert.deepEqual(await settled(), []);
  },
);

test('rootless: --dry-run shows the user-namespace path first', { skip }, async () => {
  const home = nobodyDir();
  const r = await asNobody(['run', 'examples/ping/plan.toml', '--dry-run'], home);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^setpriv --pdeathsig KILL unshare --user --map-root-user --net --mount .* run-inside /);
  assert.deepEqual(lines.slice(1, 4), [
    'ip link set lo up',
    'mount -t tmpfs -o mode=0755 tgc /run',
    'mkdir /run/netns',
  ]);
  assert.ok(lines.some((l) => /^ip netns exec tgc-\w+-0 node examples\/ping\/ping\.mjs/.test(l)));
});

test('rootless: without /dev/net/tun access, or with user namespaces off: exit 3 with the fix', { skip }, async () => {
  const home = nobodyDir();
  chmodSync('/dev/net/tun', 0o600);
  try {
    const r = await asNobody(['run', 'examples/ping/plan.toml', '--out', join(home, 'run')], home);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /\/dev\/net\/tun is not readable and writable .*sudo chmod 0666 \/dev\/net\/tun/);
  } finally {
    chmodSync('/dev/net/tun', 0o666);
  }
  assert.ok(!existsSync(join(home, 'run')), 'no run directory');
  // user.max_user_namespaces = 0: set in a user namespace of the test's own, around the run, since
  // this sandbox refuses the sysctl on the host even to root. The kernel refuses for real there.
  const r = await asNobody(['run', 'examples/ping/plan.toml', '--out', join(home, 'run')], home, undefined, [
    'python3',
    join(repoRoot, 'test/tools/userns-limit.py'),
  ]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /user namespaces are turned off here .*sudo sysctl -w user\.max_user_namespaces=15000/);
  assert.ok(!existsSync(join(home, 'run')), 'no run directory');
  assert.deepEqual(await settled(), []);
});

/** A plan whose two instances wait forever, so the run lasts until it is signalled. */
function idlePlan(dir: string): string {
  const file = join(dir, 'plan.toml');
  writeFileSync(
    file,
    'version = 1\nname = "idle"\n[run]\ntimeout = "5m"\n' +
      `[defaults]\ncommand = ["node", ${JSON.stringify(join(repoRoot, 'test/clients/behave.mjs'))}]\n` +
      '[[groups]]\nid = "idle"\ninstances = 2\nparams = { mode = "hang" }\n',
  );
  return file;
}

test('rootless: SIGINT and SIGKILL of tgc leave no process, namespace or file behind', { skip }, async () => {
  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    const home = nobodyDir();
    const out = join(home, 'run');
    let sent = false;
    const r = await asNobody(['run', idlePlan(home), '--out', out], home, (stderr, pid) => {
      if (!sent && /states started 2 /.test(stderr)) {
        sent = true;
        process.kill(pid, signal);
      }
    });
    assert.ok(sent, r.stderr);
    if (signal === 'SIGINT') {
      assert.equal(r.code, 130, r.stderr);
      assert.equal(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).reason, 'interrupted');
    } else {
      assert.equal(r.signal, 'SIGKILL');
    }
    // Every process of the run was nobody's, the namespaces lived only as long as they did,
    // and /run/netns was a private tmpfs: nothing of it is left for root to see either.
    assert.deepEqual(await settled(), [], signal);
    const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    assert.ok(!/tgc-/.test(netns), `ip netns list: ${netns}`);
  }
});

test(
  'side by side: three root runs and a rootless one of the ping example at once, each 2000 ms ± 1.5 %, nothing left',
  { skip: skip ?? netSkipReason(), timeout: 180_000 },
  async () => {
    const home = nobodyDir();
    const namespacesBefore = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    const [rootless, ...roots] = await Promise.all([
      asNobody(['run', 'examples/ping/plan.toml', '--out', join(home, 'run')], home),
      ...[0, 1, 2].map(() => tgcRun('examples/ping/plan.toml')),
    ]);
    const outs = [join(home, 'run'), ...roots.map((r) => r.out)];
    for (const [i, r] of [rootless!, ...roots].entries()) {
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const results = JSON.parse(readFileSync(join(outs[i]!, 'results.json'), 'utf8'));
      for (const instance of results.instances) {
        const rtt = instance.metrics.rtt_ms.mean as number;
        assert.ok(Math.abs(rtt - 2000) <= 30, `run ${i}, ${instance.name}: rtt ${rtt} ms`);
      }
    }
    assert.equal(
      spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout,
      namespacesBefore,
      'no namespace left',
    );
    assert.doesNotMatch(spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout, /tgc[bvdwx]/);
    assert.deepEqual(await settled(), []);
  },
);
