import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../driver/environment-error.js';
import { processAlive } from '../driver/process-alive.js';
import { execOrThrow, onPath } from '../driver/exec.js';
import { inParallel } from '../driver/in-parallel.js';
import { DEFAULT_CONTROL_SUBNET, freeControlSubnet, withControlLock, type ControlSubnet } from './control-subnet.js';
import { ipBatch } from './ip-batch.js';

/** Runs a command that must succeed; resolves to its output. */
const run = async (cmd: string, args: readonly string[]) => ({ stdout: await execOrThrow(cmd, args) });

/** Where `ip netns exec` finds files to mount over /etc inside a namespace. */
const NETNS_ETC = '/etc/netns';

/**
 * Where the coordinator's relays put their Unix sockets (`tgc-relay-<tag>-<n>.sock`): /run, a
 * rootless run's own tmpfs (gone with it), removed with the rest of a killed root run.
 */
export const RELAY_DIR = '/run';

/** The control network of a run alone on its host (each run picks a free one: control-subnet.ts). */
export const CONTROL_SUBNET: ControlSubnet = DEFAULT_CONTROL_SUBNET;

export interface LocalHost {
  readonly name: string;
  readonly netns: string;
  /** The host end of its data veth (kernel shaping and no shaping). */
  readonly dataVeth: string;
  /** Its TUN device before it moves in (userspace shaping). */
  readonly tunDevice: string;
}

/** Everything one local run creates in the kernel, named after the run so it can be found. */
export class LocalNetwork {
  readonly bridge: string;
  private readonly hosts: LocalHost[] = [];
  /** /etc/netns/<ns> directories this run made (hosts files). */
  private readonly etcDirs = new Set<string>();
  private bridgeUp = false;
  /** This run's control block: the pool's first until `start` picks a free one. */
  control: ControlSubnet = CONTROL_SUBNET;

  /** @param tag short, unique per run: it goes into every name (bridges and links allow 15 characters). */
  constructor(readonly tag: string) {
    this.bridge = `tgcb${tag}`;
  }

  /** Every command, in order, that `start` and `addHost` would run (for --dry-run). */
  static commandsFor(tag: string, names: readonly string[]): string[][] {
    const net = new LocalNetwork(tag);
    const cmds: string[][] = [...net.bridgeCommands()];
    names.forEach((name, i) => cmds.push(...net.hostCommands(net.host(name, i))));
    return cmds;
  }

  /**
   * The control bridge, on a control block no other run (or anything else on the host) uses:
   * runs go side by side. What killed runs left is removed first.
   */
  async start(instances: number): Promise<void> {
    await reclaimKilledRuns();
    await withControlLock(async () => {
      const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
      const taken = [...stdout.matchAll(/ inet ([0-9.]+\/[0-9]+)/g)].map((m) => m[1]!);
      const free = freeControlSubnet(instances, taken);
      if (!free)
        throw new EnvironmentError(
          `no free control block for ${instances} instances in 198.19.0.0/17: other local runs (or other ` +
            `interfaces) hold it; wait for them to end`,
        );
      this.control = free;
      for (const cmd of this.bridgeCommands()) await run(cmd[0]!, cmd.slice(1));
      // The bridge says whose it is, so a later run can tell a live run from a killed one.
      await run('ip', ['link', 'set', 'dev', this.bridge, 'alias', `tgc pid=${process.pid} tag=${this.tag}`]);
      this.bridgeUp = true;
    });
  }

  host(name: string, index: number): LocalHost {
    const id = `${this.tag}${index.toString(36)}`;
    return {
      name,
      netns: `tgc-${this.tag}-${index}`,
      dataVeth: `tgcw${id}`,
      tunDevice: `tgcd${id}`,
    };
  }

  /**
   * Creates the hosts' namespaces: one `ip -batch` for the host side, then one per namespace for
   * the inside, in parallel (hundreds of hosts in a few seconds). A namespace has no control
   * link: the coordinator is relayed to its loopback (run.ts), so the only IPv4 interface an
   * instance sees besides loopback is its data interface.
   */
  async addHosts(list: readonly { name: string; index: number }[]): Promise<LocalHost[]> {
    const hosts = list.map(({ name, index }) => this.host(name, index));
    this.hosts.push(...hosts);
    const outside = hosts.flatMap((h) => this.hostCommands(h).filter((c) => c[1] !== '-n'));
    await ipBatch(outside.map((c) => c.slice(1).join(' ')));
    await inParallel(hosts, (h) =>
      ipBatch(
        this.hostCommands(h)
          .filter((c) => c[1] === '-n')
          .map((c) => c.slice(3).join(' ')),
        h.netns,
      ),
    );
    return hosts;
  }

  /** The data network as a plain bridge (for kernel shaping, or none): `data0` in every host. */
  private dataUp = false;
  private forwardAllowed = false;

  get dataBridge(): string {
    return `tgcx${this.tag}`;
  }

  /**
   * Joins the hosts on a second bridge, with no address on this side: a data network that
   * reaches only the instances. Each gets `data0` with its data address.
   */
  async addDataNetwork(hosts: readonly LocalHost[], ips: readonly string[], prefix: number): Promise<void> {
    const { outside, inside } = this.dataNetworkCommands(hosts, ips, prefix);
    await ipBatch(outside);
    this.dataUp = true;
    if (bridgedTrafficFiltered()) {
      await run('iptables', this.forwardRule('-I'));
      this.forwardAllowed = true;
    }
    await inParallel(hosts, (h, i) => ipBatch(inside[i]!, h.netns));
  }

  /**
   * Where bridged packets go through iptables (br_netfilter loaded, as Docker does) and the
   * FORWARD policy drops them (as Docker sets it), instance-to-instance traffic on the data
   * bridge would vanish: this rule lets it through, and goes with the bridge.
   */
  forwardRule(op: '-I' | '-D'): string[] {
    return [
      op,
      'FORWARD',
      '-i',
      this.dataBridge,
      '-o',
      this.dataBridge,
      '-m',
      'comment',
      '--comment',
      `tgc-tag=${this.tag}`,
      '-j',
      'ACCEPT',
    ];
  }

  /** The `ip -batch` lines of `addDataNetwork`: the host side, then each namespace's. */
  dataNetworkCommands(
    hosts: readonly LocalHost[],
    ips: readonly string[],
    prefix: number,
  ): { outside: string[]; inside: string[][] } {
    return {
      outside: [
        `link add ${this.dataBridge} type bridge`,
        `link set ${this.dataBridge} up`,
        ...hosts.flatMap((h) => [
          `link add ${h.dataVeth} type veth peer name data0 netns ${h.netns}`,
          `link set ${h.dataVeth} master ${this.dataBridge} up`,
        ]),
      ],
      inside: hosts.map((_, i) => [`addr add ${ips[i]}/${prefix} dev data0`, 'link set data0 up']),
    };
  }

  /**
   * Gives every namespace this hosts file: `ip netns exec` mounts /etc/netns/<ns>/hosts over
   * /etc/hosts, so instance and group names resolve to data addresses. False where /etc/netns
   * cannot be written (a rootless run): then names come from TGC_PEERS alone.
   */
  writeHosts(text: string): boolean {
    try {
      for (const h of this.hosts) {
        const dir = join(NETNS_ETC, h.netns);
        mkdirSync(dir, { recursive: true });
        this.etcDirs.add(dir);
        // In place: the namespace's /etc/hosts is a bind mount of this very file.
        writeFileSync(join(dir, 'hosts'), text);
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Removes every namespace, link and the bridges; never throws. */
  async stop(): Promise<void> {
    for (const dir of this.etcDirs) rmSync(dir, { recursive: true, force: true });
    this.etcDirs.clear();
    await Promise.all(this.hosts.map((h) => run('ip', ['netns', 'del', h.netns]).catch(() => undefined)));
    if (this.dataUp) await run('ip', ['link', 'del', this.dataBridge]).catch(() => undefined);
    if (this.forwardAllowed) await run('iptables', this.forwardRule('-D')).catch(() => undefined);
    this.forwardAllowed = false;
    if (this.bridgeUp) await run('ip', ['link', 'del', this.bridge]).catch(() => undefined);
    this.hosts.length = 0;
    this.bridgeUp = false;
    this.dataUp = false;
  }

  private bridgeCommands(): string[][] {
    return [
      ['ip', 'link', 'add', this.bridge, 'type', 'bridge'],
      ['ip', 'addr', 'add', `${this.control.gateway}/${this.control.prefix}`, 'dev', this.bridge],
      ['ip', 'link', 'set', this.bridge, 'up'],
    ];
  }

  private hostCommands(h: LocalHost): string[][] {
    return [
      ['ip', 'netns', 'add', h.netns],
      ['ip', '-n', h.netns, 'link', 'set', 'lo', 'up'],
    ];
  }
}

/**
 * Every run whose tgc is gone (its bridge's alias names a pid that no longer runs) and whose
 * reaper did not clean up: what it left — namespaces and their processes, links, TUN bridge
 * processes, all named with its tag — is removed.
 */
async function reclaimKilledRuns(): Promise<void> {
  const { stdout } = await run('ip', ['-o', 'link', 'show']);
  for (const line of stdout.split('\n')) {
    const m = /^\d+: (tgcb\w+)[:@].*alias tgc pid=(\d+) tag=\w+/.exec(line);
    if (m && !processAlive(Number(m[2]))) await reclaimRun(m[1]!, line);
  }
}

/**
 * After the tgc of run `tag` ended (`tgc reap`, started beside every root run): what it left —
 * its instances' processes first — is removed. Nothing, when the run took itself down.
 */
export async function reapRun(tag: string): Promise<void> {
  const device = `tgcb${tag}`;
  const { stdout } = await run('ip', ['-o', 'link', 'show', 'dev', device]).catch(() => ({ stdout: '' }));
  if (stdout.includes(`tag=${tag}`)) await reclaimRun(device, stdout);
}

async function reclaimRun(device: string, stdout: string): Promise<void> {
  const m = /alias tgc pid=(\d+) tag=(\w+)/.exec(stdout);
  if (!m || processAlive(Number(m[1]))) return;
  const tag = m[2]!;
  const { stdout: nss } = await run('ip', ['netns', 'list']);
  for (const ns of nss
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`tgc-${tag}-`))) {
    // Deleting a namespace ends none of its processes: the instances are killed first.
    const { stdout: pids } = await run('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
    for (const pid of pids.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
  for (const f of readdirSync(RELAY_DIR).filter((n) => n.startsWith(`tgc-relay-${tag}-`)))
    rmSync(join(RELAY_DIR, f), { force: true });
  try {
    for (const d of readdirSync(NETNS_ETC).filter((n) => n.startsWith(`tgc-${tag}-`)))
      rmSync(join(NETNS_ETC, d), { recursive: true, force: true });
  } catch {
    // no /etc/netns
  }
  const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
  for (const name of links
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter((n) => ['tgcv', 'tgcd', 'tgcw', 'tgcx'].some((p) => n.startsWith(`${p}${tag}`))))
    await run('ip', ['link', 'del', name]).catch(() => undefined);
  if (bridgedTrafficFiltered()) {
    const { stdout: rules } = await run('iptables', ['-S', 'FORWARD']).catch(() => ({ stdout: '' }));
    for (const rule of rules.split('\n').filter((r) => r.includes(`tgc-tag=${tag}`)))
      await run('iptables', ['-D', ...rule.replace(/^-A /, '').replace(/"/g, '').split(' ')]).catch(() => undefined);
  }
  const { stdout: ps } = await run('ps', ['-eo', 'pid=,args=']);
  for (const line of ps.split('\n')) {
    const [p, ...args] = line.trim().split(/\s+/);
    if (args[0]?.endsWith('socat') && args.some((a) => a.includes(`tun-name=tgcd${tag}`))) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  await run('ip', ['link', 'del', device]).catch(() => undefined);
}

/**
 * Whether bridged IPv4 goes through iptables here (br_netfilter with bridge-nf-call-iptables on)
 * and iptables is there to open it.
 */
export function bridgedTrafficFiltered(): boolean {
  try {
    return readFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').trim() === '1' && onPath('iptables');
  } catch {
    return false;
  }
}
