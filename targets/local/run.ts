import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { Coordinator, type Results } from '../../runtime/coordinator/coordinator.js';
import { nativeWireBinary } from './native-wire.js';
import { UserspaceNetwork, type ShapedInstance } from './userspace-network.js';
import { AgentLink } from '../../runtime/agent/agent-link.js';
import { planEgress } from '../../model/egress-plan.js';
import { kernelShortfall, probeKernel, tcRunner } from '../../runtime/shaping/kernel-backend.js';
import { startKernelShaping } from '../../runtime/shaping/kernel-shaping.js';
import { renderTc } from '../../runtime/shaping/tc-plan.js';
import { inParallel } from './in-parallel.js';
import type { Plan } from '../../schema/ir.js';
import { buildReport, junitXml, outcomeTable, progressLine, type CoordinatorStatus } from '../driver/run-report.js';
import { instanceEnv } from '../instance-env.js';
import { instanceLayout } from '../../model/instance-layout.js';
import { bridgedTrafficFiltered, CONTROL_SUBNET, EnvironmentError, LocalNetwork } from './network.js';

export interface LocalRunOptions {
  readonly plan: Plan;
  readonly version: string;
  /** The run directory (created; must not exist). */
  readonly outDir: string;
  readonly runId: string;
  /** Where instance commands run. */
  readonly cwd: string;
  /** The environment instances inherit (PATH, HOME…), before the TGC_ variables. */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly json: boolean;
  /**
   * No namespaces, no shaping: plain processes on loopback, each with its own 127.x address.
   * For machines (or users) without network namespaces. @default false
   */
  readonly loopback?: boolean;
  readonly io: {
    readonly stdout: (t: string) => void;
    readonly stderr: (t: string) => void;
    readonly tty: boolean;
    readonly env?: Readonly<Record<string, string | undefined>>;
  };
  /** Aborted on Ctrl-C: everything is torn down and the run reports 130. */
  readonly signal: AbortSignal;
}

/** Loopback runs give each instance its own address in here (any 127/8 address is local on Linux). */
export const LOOPBACK_SUBNET = '127.18.0.0/16';

/** What `tgc run --dry-run` prints for the local target, in order. */
export function localDryRun(plan: Plan, runId: string, cwd: string, loopback = false): string[] {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  if (loopback) {
    return [
      `# coordinator (in this process) on 127.0.0.1, expecting ${plan.totalInstances} instances; no namespaces, no shaping`,
      ...instanceLayout(plan, LOOPBACK_SUBNET).map(
        (p) =>
          `${(plan.groups.find((x) => x.id === p.group)!.command ?? []).map(quote).join(' ')}  # ${p.name}, data address ${p.dataIp}, cwd ${cwd}`,
      ),
    ];
  }
  const tag = runId.slice(-6);
  const planned = instanceLayout(plan);
  const net = new LocalNetwork(tag);
  const prefix = Number(plan.network.subnet.split('/')[1]);
  const lines = LocalNetwork.commandsFor(
    tag,
    planned.map((p) => p.name),
  ).map((c) => c.join(' '));
  lines.push(
    `# coordinator (in this process) on ${CONTROL_SUBNET.gateway}, expecting ${plan.totalInstances} instances`,
  );
  const hosts = planned.map((p) => net.host(p.name, p.index));
  const userspace = () => {
    const native = nativeWireBinary();
    if (native) {
      const groupIndex = new Map(plan.groups.map((g, i) => [g.id, i]));
      lines.push(`${native}  # the native wire; on its stdin, one line each:`);
      planned.forEach((p, i) =>
        lines.push(`  tun ${hosts[i]!.tunDevice} ${p.dataIp} ${groupIndex.get(p.group)} ${hosts[i]!.netns}`),
      );
      lines.push('  shape FROM TO FIELDS  # for every pair of groups with a shape');
    }
    planned.forEach((p, i) => {
      const h = hosts[i]!;
      if (!native)
        lines.push(
          `socat -b 65536 TUN,tun-name=${h.tunDevice},iff-no-pi,tun-type=tun UDP:127.0.0.1:<wire>,bind=127.0.0.1:<port>`,
          `ip link set dev ${h.tunDevice} netns ${h.netns}`,
        );
      lines.push(
        `ip -n ${h.netns} -batch -  # addr add ${p.dataIp}/${prefix} dev ${h.tunDevice}; link set dev ${h.tunDevice} up`,
      );
    });
  };
  const bridged = (shaped: boolean) => {
    const { outside, inside } = net.dataNetworkCommands(
      hosts,
      planned.map((p) => p.dataIp),
      prefix,
    );
    lines.push(...outside.map((l) => `ip ${l}`));
    if (bridgedTrafficFiltered())
      lines.push(`iptables ${net.forwardRule('-I').join(' ')}  # br_netfilter is on: let the data bridge forward`);
    const addresses = new Map(
      plan.groups.map((g) => [g.id, planned.filter((p) => p.group === g.id).map((p) => p.dataIp)]),
    );
    planned.forEach((p, i) => {
      lines.push(...inside[i]!.map((l) => `ip -n ${hosts[i]!.netns} ${l}`));
      if (shaped)
        for (const l of renderTc(planEgress(plan, p.group), { device: 'data0', addresses }).batch)
          lines.push(`tc -n ${hosts[i]!.netns} ${l}`);
    });
  };
  const mode = plan.network.shaping;
  if (mode === 'userspace') userspace();
  else if (mode === 'kernel' || mode === 'off') bridged(mode === 'kernel');
  else {
    lines.push(
      `tc -n ${net.host(planned[0]!.name, 0).netns} qdisc add dev lo root handle 1: netem delay 1ms  # auto: the probe (then htb, u32, mirred); kernel if it works, else:`,
    );
    userspace();
  }
  for (const p of planned) {
    const g = plan.groups.find((x) => x.id === p.group)!;
    lines.push(
      `ip netns exec ${net.host(p.name, p.index).netns} ${(g.command ?? []).map(quote).join(' ')}  # cwd ${cwd}`,
    );
  }
  lines.push(`# after the run: kill what is left, then`);
  for (const p of planned) lines.push(`ip netns del ${net.host(p.name, p.index).netns}`);
  if (mode === 'kernel' || mode === 'off') {
    lines.push(`ip link del ${net.dataBridge}`);
    if (bridgedTrafficFiltered()) lines.push(`iptables ${net.forwardRule('-D').join(' ')}`);
  }
  lines.push(`ip link del ${net.bridge}`);
  return lines;
}

/**
 * Runs a plan as local processes, each in its own network namespace: a control bridge to the
 * in-process coordinator, a TUN data interface on the userspace wire. Follows the run, writes
 * the run directory, tears everything down. Resolves to the exit code (0, 1, 3 or 130).
 */
export async function runLocal(o: LocalRunOptions): Promise<number> {
  const { plan, io } = o;
  const say = (line: string) => {
    if (!o.json) io.stderr(line + '\n');
  };
  const loopback = o.loopback === true;
  // auto and kernel are settled once a namespace exists to probe the kernel in.
  let backend: 'off' | 'userspace' | 'kernel' = loopback || plan.network.shaping === 'off' ? 'off' : 'userspace';
  const subnet = loopback ? LOOPBACK_SUBNET : plan.network.subnet;
  const planned = instanceLayout(plan, subnet);
  const tag = o.runId.slice(-6);
  const network = new LocalNetwork(tag);
  const coordinator = new Coordinator({
    instances: plan.totalInstances,
    groups: Object.fromEntries(plan.groups.map((g) => [g.id, g.instances])),
    timeoutMs: plan.timeoutMs,
    runId: o.runId,
    plan: plan.name,
    agents: backend !== 'off',
  });
  const agentLinks: AgentLink[] = [];
  const procs = new Map<string, ChildProcess>();
  const exits = new Map<string, number | null>();
  const logs: WriteStream[] = [];
  let shaped: UserspaceNetwork | undefined;
  let progress: NodeJS.Timeout | undefined;
  const startedAt = new Date();
  const t0 = Date.now();
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  mkdirSync(join(o.outDir, 'outputs'), { recursive: true });

  const teardown = async () => {
    if (progress) clearInterval(progress);
    if (io.tty && !o.json) io.stderr('\r\x1b[K');
    for (const p of procs.values())
      if (p.exitCode === null && p.signalCode === null && p.pid) signalGroup(p.pid, 'SIGTERM');
    const deadline = Date.now() + 2000;
    while ([...procs.values()].some((p) => p.exitCode === null && p.signalCode === null) && Date.now() < deadline)
      await sleep(50);
    for (const p of procs.values())
      if (p.exitCode === null && p.signalCode === null && p.pid) signalGroup(p.pid, 'SIGKILL');
    while ([...procs.values()].some((p) => p.exitCode === null && p.signalCode === null)) await sleep(20);
    await shaped?.close();
    for (const a of agentLinks) a.close();
    await coordinator.close();
    await network.stop();
    await Promise.all(logs.map((l) => new Promise((r) => l.end(r))));
  };

  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    coordinator.abort('interrupted');
  };
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (!loopback) await network.start();
    const host = loopback ? '127.0.0.1' : CONTROL_SUBNET.gateway;
    const port = await coordinator.listen(0, host);
    const address = `${host}:${port}`;
    const tick = (what: string) => io.env?.TGC_TIMING && io.stderr(`timing ${what} ${Date.now() - t0} ms\n`);
    tick('control up');
    const hosts = loopback ? [] : await network.addHosts(planned.map((p) => ({ name: p.name, index: p.index })));
    tick('hosts up');
    const addresses = new Map(
      plan.groups.map((g) => [g.id, planned.filter((p) => p.group === g.id).map((p) => p.dataIp)]),
    );
    let how = loopback ? ' (--no-shaping: plain processes on loopback)' : '';
    if (!loopback && (plan.network.shaping === 'auto' || plan.network.shaping === 'kernel')) {
      const caps = await probeKernel('lo', tcRunner(hosts[0]!.netns));
      const shortfall = plan.groups
        .map((g) => kernelShortfall(renderTc(planEgress(plan, g.id), { device: 'data0', addresses }), caps))
        .find(Boolean);
      if (plan.network.shaping === 'kernel') {
        if (shortfall) throw new EnvironmentError(`shaping = "kernel": ${shortfall}`);
        backend = 'kernel';
      } else {
        backend = caps.netem && !shortfall ? 'kernel' : 'userspace';
        how = caps.netem ? ' (auto: sch_netem works)' : ' (auto: no sch_netem in this kernel)';
      }
    }
    say(
      `tgc: run ${o.runId} · plan ${plan.name} · ${plan.totalInstances} instance${plan.totalInstances === 1 ? '' : 's'} · target local · shaping ${backend}${how} · ${o.outDir}`,
    );
    if (loopback && hasShapes(plan))
      say('tgc: the plan shapes its network; with --no-shaping those shapes are not applied');
    const prefix = Number(plan.network.subnet.split('/')[1]);
    if (backend === 'userspace') {
      const instances: ShapedInstance[] = planned.map((p, i) => ({
        name: p.name,
        group: p.group,
        netns: hosts[i]!.netns,
        ip: p.dataIp,
        device: hosts[i]!.tunDevice,
      }));
      shaped = await UserspaceNetwork.start({ plan, instances, prefix, coordinator: address });
    } else if (!loopback) {
      // A plain bridge for the data network; with kernel shaping, tc on every data0.
      await network.addDataNetwork(
        hosts,
        planned.map((p) => p.dataIp),
        prefix,
      );
      if (backend === 'kernel') {
        await inParallel(planned, async (p) => {
          const link = await AgentLink.open(address, p.name);
          agentLinks.push(link);
          await startKernelShaping({
            plan,
            instance: p.name,
            group: p.group,
            device: 'data0',
            tc: tcRunner(hosts[p.index]!.netns),
            addresses,
            link,
          });
        });
      }
    }
    tick('network ready');
    for (const [i, p] of planned.entries()) {
      if (o.signal.aborted) break;
      const g = plan.groups.find((x) => x.id === p.group)!;
      const outputs = resolve(o.outDir, 'outputs', p.name);
      mkdirSync(outputs, { recursive: true });
      const log = createWriteStream(join(o.outDir, 'logs', `${p.name}.log`));
      logs.push(log);
      const env = {
        ...o.baseEnv,
        ...instanceEnv(plan, g, {
          runId: o.runId,
          instance: p.name,
          coordinator: address,
          outputs,
          subnet,
          dataIp: p.dataIp,
        }),
      };
      const argv = loopback ? g.command! : ['ip', 'netns', 'exec', hosts[i]!.netns, ...g.command!];
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: o.cwd,
        env: env as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      procs.set(p.name, child);
      const stream = (data: Buffer) => {
        log.write(data);
        if (o.json) return;
        if (io.tty) io.stderr('\r\x1b[K');
        for (const line of data.toString('utf8').replace(/\n$/, '').split('\n')) io.stdout(`${p.name} | ${line}\n`);
      };
      child.stdout!.on('data', stream);
      child.stderr!.on('data', stream);
      child.on('error', (err) => coordinator.crashed(p.name, p.group, `could not start: ${err.message}`));
      child.on('exit', (code, sig) => {
        exits.set(p.name, code ?? (sig ? 128 : null));
        // A process that ends without having reported: give the connection a moment to close first.
        setTimeout(
          () =>
            coordinator.crashed(
              p.name,
              p.group,
              `exited with ${sig ? `signal ${sig}` : `code ${code}`} without reporting an outcome`,
            ),
          200,
        );
      });
    }

    tick('instances started');

    let last = '';
    progress = setInterval(
      () => {
        const line = progressLine(coordinator.status() as unknown as CoordinatorStatus, plan.totalInstances);
        if (o.json) return;
        if (io.tty) io.stderr(`\r\x1b[K${line}`);
        else if (line !== last) io.stderr(`tgc: ${line}\n`);
        last = line;
      },
      io.tty ? 200 : 1000,
    );

    const results: Results = await coordinator.ended;
    // Give instances that just got `stop` a moment to exit on their own.
    const grace = Date.now() + 2000;
    while ([...procs.values()].some((p) => p.exitCode === null && p.signalCode === null) && Date.now() < grace)
      await sleep(50);
    await teardown();
    const report = buildReport({
      version: o.version,
      plan,
      target: 'local',
      backend,
      startedAt,
      durationMs: Date.now() - t0,
      results,
      exits,
      names: planned.map((p) => ({ name: p.name, group: p.group, ip: p.dataIp })),
    });
    writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(o.outDir, 'junit.xml'), junitXml(report));
    if (o.json) io.stdout(JSON.stringify(report, null, 2) + '\n');
    else io.stdout('\n' + outcomeTable(report) + `results: ${join(o.outDir, 'results.json')}\n`);
    if (interrupted) return 130;
    return report.outcome === 'success' ? 0 : 1;
  } catch (err) {
    await teardown();
    throw err;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}

function hasShapes(plan: Plan): boolean {
  return (
    Object.keys(plan.network.shape).length > 0 ||
    plan.network.links.length > 0 ||
    plan.groups.some((g) => Object.keys(g.network).length > 0)
  );
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
