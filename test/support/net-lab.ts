import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers.js';

const run = promisify(execFile);
const probe = join(repoRoot, 'test/tools/net-probe.mjs');
let labs = 0;

/** Why network tests cannot run here, or undefined when they can (root, ip, tc, TUN, socat). */
export function netSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (CI runs as root)';
  for (const tool of ['ip', 'tc', 'socat', 'ping']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} on PATH (apt-get install iproute2 socat iputils-ping)`;
    }
  }
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  return undefined;
}

/** The scheduling policy of process `pid` (/proc/PID/stat, field 41): 0 SCHED_OTHER, 3 SCHED_BATCH. */
export function schedPolicy(pid: number | string): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[38]);
}

/** Runs a Node script inside `netns`; resolves with its exit code and what it printed (both streams). */
export function nodeIn(netns: string, script: string): Promise<{ code: number | null; out: string }> {
  const p = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d));
  p.stderr.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) => p.once('exit', (code) => resolve({ code, out })));
}

/**
 * Network namespaces for one test, named with a prefix unique to the test, and every process
 * started in them; `cleanup()` removes all of it and `leftovers()` says what is still there.
 */
export class NetLab {
  readonly prefix = `tgct${process.pid % 100000}x${labs++}`;
  private readonly namespaces: string[] = [];
  private veths = 0;

  /** A lab removed after the test `t`, which then asserts that nothing of it is left. */
  static forTest(t: TestContext, before?: () => Promise<void>): NetLab {
    const lab = new NetLab();
    t.after(async () => {
      await before?.();
      await lab.cleanup();
      assert.deepEqual(await lab.leftovers(), [], 'nothing of the test is left');
    });
    return lab;
  }
  private readonly procs: Pick<ChildProcess, 'exitCode' | 'signalCode' | 'kill' | 'once' | 'pid'>[] = [];

  async netns(label: string): Promise<string> {
    const name = `${this.prefix}${label}`;
    await run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /**
   * A veth pair between two of the lab's namespaces, up, with these addresses (CIDR) on each
   * end; resolves to the two device names.
   */
  async veth(
    a: string,
    b: string,
    addressesA: readonly string[],
    addressesB: readonly string[],
  ): Promise<[string, string]> {
    const [da, db] = [this.device(`v${this.veths}a`), this.device(`v${this.veths++}b`)];
    await run('ip', ['link', 'add', da, 'netns', a, 'type', 'veth', 'peer', 'name', db, 'netns', b]);
    for (const [ns, dev, addresses] of [
      [a, da, addressesA],
      [b, db, addressesB],
    ] as const) {
      for (const address of addresses) await run('ip', ['-n', ns, 'addr', 'add', address, 'dev', dev]);
      await run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    return [da, db];
  }

  /** A device name unique to this lab (≤ 15 characters). */
  device(label: string): string {
    return `${this.prefix}${label}`.slice(-15);
  }

  /** Starts net-probe.mjs in a namespace; resolves once it printed its first line when `waitReady`. */
  async probe(
    netns: string,
    args: (string | number)[],
    waitReady = false,
  ): Promise<{ result: Promise<Record<string, unknown>>; proc: ChildProcess }> {
    const proc = spawn('ip', ['netns', 'exec', netns, process.execPath, probe, ...args.map(String)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.track(proc);
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    let notify: () => void = () => {};
    proc.stdout!.setEncoding('utf8');
    let buf = '';
    proc.stdout!.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
        notify();
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (waitReady) {
      await Promise.race([new Promise<void>((resolve) => (notify = resolve)), exited]);
      if (!lines.some((l) => l.ready)) throw new Error(`probe ${args[0]} did not start: ${stderr}`);
    }
    const result = exited.then(() => {
      const last = lines.filter((l) => !l.ready).pop();
      if (!last) throw new Error(`probe ${args.join(' ')} printed nothing: ${stderr}`);
      return last;
    });
    return { result, proc };
  }

  /** ICMP echo round trips (ms) from a namespace, with the system's ping (iputils). */
  async ping(netns: string, ip: string, count: number, intervalSec: number): Promise<number[]> {
    const { stdout } = await run(
      'ip',
      ['netns', 'exec', netns, 'ping', '-n', '-c', String(count), '-i', String(intervalSec), '-W', '3', ip],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
    return [...stdout.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1]));
  }

  track(proc: Pick<ChildProcess, 'exitCode' | 'signalCode' | 'kill' | 'once' | 'pid'>): void {
    this.procs.push(proc);
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await Promise.all(
      this.procs.map((p) =>
        p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : undefined,
      ),
    );
    for (const ns of this.namespaces) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }

  /** Namespaces, links and processes of this lab that still exist. */
  async leftovers(): Promise<string[]> {
    const found: string[] = [];
    const { stdout: nss } = await run('ip', ['netns', 'list']);
    found.push(
      ...nss
        .split('\n')
        .filter((l) => l.startsWith(this.prefix))
        .map((l) => `netns ${l.split(' ')[0]}`),
    );
    const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
    found.push(
      ...links
        .split('\n')
        .filter((l) => l.includes(this.prefix.slice(-10)))
        .map((l) => `link ${l.split(':')[1]?.trim()}`),
    );
    for (const p of this.procs)
      if (p.pid && existsSync(`/proc/${p.pid}`) && p.exitCode === null && p.signalCode === null)
        found.push(`process ${p.pid}`);
    return found;
  }
}
