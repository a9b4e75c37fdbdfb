import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa, execaSync } from 'execa';
import { EnvironmentError } from '../driver/environment-error.js';
import { execOrThrow, onPath } from '../driver/exec.js';
import type { RunOptions } from '../target.js';
import { INSIDE_COMMAND } from './inside-command.js';

/**
 * Rootless local runs. Without root, tgc runs the local target inside namespaces it creates
 * with `unshare`: a user namespace (tgc is root in it, the invoking user outside), a network
 * namespace (the bridges, every instance's namespace, the TUN devices and the wire live in it),
 * a mount namespace (a private /run for `ip netns`) and a PID namespace whose first process is
 * tgc: when it ends, by any means, the kernel ends every process in it, and the namespaces go
 * with the last of them. `setpriv --pdeathsig KILL` ends all of it when the tgc that started
 * it is killed. Nothing is written outside the run directory.
 */
export const UNSHARE = [
  'setpriv',
  '--pdeathsig',
  'KILL',
  'unshare',
  '--user',
  '--map-root-user',
  '--net',
  '--mount',
  '--propagation',
  'private',
  '--pid',
  '--fork',
  '--mount-proc',
  '--kill-child',
] as const;

/** What the tgc inside the namespaces does first: loopback up, a private /run with /run/netns. */
export const INSIDE_SETUP: readonly (readonly string[])[] = [
  ['ip', 'link', 'set', 'lo', 'up'],
  ['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'tgc', '/run'],
  ['mkdir', '/run/netns'],
];

const readSysctl = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/**
 * Why this machine cannot give a normal user a rootless run, with the fix for that cause; or
 * undefined when it can (every piece checked, then `unshare` tried for real).
 */
export function rootlessProblem(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const sudo = 'or run tgc with sudo, or pass --no-shaping to run plain processes on loopback, unshaped';
  const missing = ['unshare', 'setpriv', 'mount', 'ip'].filter((tool) => !onPath(tool, env.PATH));
  if (missing.length > 0) {
    return (
      `rootless local runs need ${missing.join(', ')} (apt-get install util-linux mount iproute2; dnf ` +
      `install util-linux iproute), ${sudo}`
    );
  }
  if (readSysctl('/proc/sys/user/max_user_namespaces') === '0') {
    return (
      `user namespaces are turned off here (user.max_user_namespaces = 0): sudo sysctl -w ` +
      `user.max_user_namespaces=15000, ${sudo}`
    );
  }
  if (readSysctl('/proc/sys/kernel/unprivileged_userns_clone') === '0') {
    return (
      `unprivileged user namespaces are turned off here (kernel.unprivileged_userns_clone = 0): sudo sysctl ` +
      `-w kernel.unprivileged_userns_clone=1, ${sudo}`
    );
  }
  if (readSysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
    return (
      `AppArmor restricts unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns = ` +
      `1, as on Ubuntu 24.04): sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give node ` +
      `an AppArmor profile that allows userns, ${sudo}`
    );
  }
  if (!existsSync('/dev/net/tun')) return `there is no /dev/net/tun: sudo modprobe tun, ${sudo}`;
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return (
      `/dev/net/tun is not readable and writable for this user (Debian, Ubuntu and Fedora ship it with mode ` +
      `0666): sudo chmod 0666 /dev/net/tun, ${sudo}`
    );
  }
  const probe = execaSync('unshare', ['--user', '--map-root-user', '--net', '--mount', 'true'], {
    reject: false,
    stdin: 'ignore',
    ...(env.PATH !== undefined && { env: { PATH: env.PATH }, extendEnv: false }),
  });
  if (probe.exitCode !== 0) {
    const said = String(probe.stderr ?? '').trim() || `exit code ${probe.exitCode}`;
    return `this user cannot create user namespaces here (unshare said: ${said}), ${sudo}`;
  }
  return undefined;
}

/** The tgc executable (dist/tgc.mjs), from wherever this module runs: the bundle, a chunk of it, or the sources. */
export function tgcBin(): string {
  const candidates = ['./tgc.mjs', '../tgc.mjs', '../../dist/tgc.mjs'].map((p) => new URL(p, import.meta.url));
  const found = candidates.find((u) => existsSync(u));
  if (!found) throw new Error('the tgc executable (dist/tgc.mjs) is missing: run npm run build');
  return fileURLToPath(found);
}

/** What the outer tgc hands the inner one, as one JSON line on its stdin. */
export type InsideRun = Pick<
  RunOptions,
  'plan' | 'planFile' | 'version' | 'runId' | 'outDir' | 'cwd' | 'json' | 'busyPoll'
> & {
  /** Whether the outer tgc's stderr is a terminal (the progress line is drawn in place). */
  readonly tty: boolean;
};

/**
 * The run as the invoking user: the same run, by a tgc started inside the namespaces. Its
 * output goes to this run's io as it comes (the progress line keeps drawing in place: the inner
 * tgc is told whether this one's stderr is a terminal); Ctrl-C reaches it (it is in the
 * terminal's process group), and an interruption here is passed on through its stdin.
 * Resolves to its exit code.
 */
export async function runRootless(o: RunOptions): Promise<number> {
  const { plan, planFile, version, runId, outDir, cwd, json } = o;
  const inside: InsideRun = {
    plan,
    planFile,
    version,
    runId,
    outDir,
    cwd,
    json,
    tty: o.io.tty,
    ...(o.busyPoll === true && { busyPoll: true }),
  };
  const child = execa(UNSHARE[0], [...UNSHARE.slice(1), '--', process.execPath, tgcBin(), INSIDE_COMMAND], {
    cwd: o.cwd,
    env: o.env,
    extendEnv: false,
    stdin: 'pipe',
    buffer: false,
    reject: false,
  });
  // As text, decoded across chunks (a character may be split between two).
  child.stdout.setEncoding('utf8').on('data', (text: string) => o.io.stdout(text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => o.io.stderr(text));
  child.stdin.write(JSON.stringify(inside) + '\n');
  const onAbort = () => child.stdin.end('interrupt\n');
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await child;
    if (typeof r.exitCode === 'number') return r.exitCode;
    throw new EnvironmentError(`the rootless run ended without an exit code (${r.signal ?? r.message})`);
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}

/** Inside the namespaces, before the run: loopback up and a private /run for `ip netns`. */
export async function enterNamespaces(): Promise<void> {
  try {
    for (const [cmd, ...args] of INSIDE_SETUP) await execOrThrow(cmd!, args);
  } catch (err) {
    throw new EnvironmentError(`the rootless run could not set up its namespaces: ${(err as Error).message}`);
  }
}
