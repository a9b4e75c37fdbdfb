import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, symlinkSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { classification, planEgress } from '../../model/egress-plan.js';
import { netRunner } from '../../runtime/shaping/apply-marks.js';
import { coordinatorCounts, instanceLayout, testInstanceCount } from '../../model/instance-layout.js';
import type { Results } from '../../protocol/messages.js';
import { AgentLink } from '../../runtime/agent/agent-link.js';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { kernelShortfall, probeKernel, tcRunner } from '../../runtime/shaping/kernel-backend.js';
import { startKernelShaping } from '../../runtime/shaping/kernel-shaping.js';
import { renderTc } from '../../runtime/shaping/tc-plan.js';
import type { Plan } from '../../schema/ir.js';
import { EnvironmentError } from '../driver/environment-error.js';
import { sleep } from '../driver/exec.js';
import { finishRun, startBanner } from '../driver/finish-run.js';
import { Progress } from '../driver/progress.js';
import { tgcBin } from './rootless.js';
import { startReaper, type Reaper } from '../driver/reaper.js';
import { outcomeFromLine } from '../../protocol/sdkgo-events.js';
import { RELAY_PORT, relayInto, type Relay } from '../../runtime/agent/relay.js';
import { logTail } from '../../report/run-dir.js';
import { hostsFile, instanceEnv, peersList } from '../instance-env.js';
import type { RunOptions } from '../target.js';
import { inParallel } from '../driver/in-parallel.js';
import { LocalNetwork, RELAY_DIR } from './network.js';
import { LOOPBACK_SUBNET } from './steps.js';
import { UserspaceNetwork, type ShapedInstance } from './userspace-network.js';
import { ScheduledProcesses, signalGroup } from './scheduled-processes.js';
import { timing } from '../driver/timing.js';

/**
 * Runs a plan as local processes, each in its own network namespace: a control bridge to the
 * in-process coordinator, a TUN data interface on the userspace wire. Follows the run, writes
 * the run directory, tears everything down. Resolves to the exit code (0, 1, 3 or 130).
 */
export async function runLocal(o: RunOptions): Promise<number> {
  const { plan, io } = o;
  const say = (line: string) => {
    if (!o.json) io.stderr(line + '\n');
  };
  const loopback = o.loopback === true;
  // auto and kernel are settled once a namespace exists to probe the kernel in.
  let backend: 'off' | 'userspace' | 'kernel' = loopback || plan.network.shaping === 'off' ? 'off' : 'userspace';
  const subnet = loopback ? LOOPBACK_SUBNET : plan.network.subnet;
  const planned = instanceLayout(plan, subnet);
  const peers = peersList(planned);
  const tag = o.runId.slice(-6);
  const network = new LocalNetwork(tag);
  const coordinator = new Coordinator({
    // Services have no outcome: the run is decided by the test instances.
    ...coordinatorCounts(plan.groups),
    timeoutMs: plan.timeoutMs,
    runId: o.runId,
    plan: plan.name,
    agents: backend !== 'off',
    // This driver sees every process end: an exit code is an outcome (docs/protocol.md).
    exitGraceMs: 2000,
    // Testground programs exit 0 whatever happened.
    exitZero: plan.testground ? 'crash' : 'success',
    onFailure: plan.onFailure,
    ...(plan.events && { events: plan.events }),
    processExecutor: (action, names) => processes.act(action, names),
  });
  const agentLinks: AgentLink[] = [];
  const relays: Relay[] = [];
  let relaysUp: Promise<Error | undefined> = Promise.resolve(undefined);
  const procs = new Map<string, Pick<ChildProcess, 'exitCode' | 'signalCode' | 'pid'>>();
  // Instances started by name (restart starts one again), and the exits the schedule caused.
  const launchers = new Map<string, () => void>();
  const processes = new ScheduledProcesses(procs, launchers);
  const exits = new Map<string, number | null>();
  const logs: WriteStream[] = [];
  let shaped: UserspaceNetwork | undefined;
  const progress = new Progress(io, o.json, testInstanceCount(plan.groups));
  let ticker: NodeJS.Timeout | undefined;
  const startedAt = new Date();
  const t0 = Date.now();
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  mkdirSync(join(o.outDir, 'outputs'), { recursive: true });
  // `tgc` first on the instances' PATH (for `tgc sync` in shell scripts), however tgc was started.
  const tools = resolve(o.outDir, 'tools');
  mkdirSync(tools, { recursive: true });
  symlinkSync(tgcBin(), join(tools, 'tgc'));

  let reaper: Reaper | undefined;
  const teardown = async () => {
    if (ticker) clearInterval(ticker);
    progress.clear();
    for (const p of procs.values())
      if (p.exitCode === null && p.signalCode === null && p.pid) signalGroup(p.pid, 'SIGTERM');
    const deadline = Date.now() + 2000;
    while ([...procs.values()].some((p) => p.exitCode === null && p.signalCode === null) && Date.now() < deadline)
      await sleep(50);
    for (const p of procs.values())
      if (p.exitCode === null && p.signalCode === null && p.pid) signalGroup(p.pid, 'SIGKILL');
    while ([...procs.values()].some((p) => p.exitCode === null && p.signalCode === null)) await sleep(20);
    await shaped?.close();
    // Relays still being set up (a run that failed while they were) are closed once they are.
    await relaysUp;
    for (const r of relays) r.close();
    for (const a of agentLinks) a.close();
    await coordinator.close();
    await network.stop();
    // Everything is down: the reaper has nothing left to do.
    reaper?.dismiss();
    await Promise.all(logs.map((l) => new Promise((r) => l.end(r))));
  };

  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    coordinator.abort('interrupted');
  };
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (!loopback) await network.start(planned.length);
    // As root, the instances would outlive a killed tgc: a reaper waits beside it (a rootless
    // run's namespaces end with its tgc by themselves).
    if (!loopback && !o.userns) reaper = startReaper(network.tag);
    const host = loopback ? '127.0.0.1' : network.control.gateway;
    const port = await coordinator.listen(0, host);
    const address = `${host}:${port}`;
    const tick = timing(o, t0);
    tick('control up');
    const hosts = loopback ? [] : await network.addHosts(planned.map((p) => ({ name: p.name, index: p.index })));
    tick('hosts up');
    // Each namespace reaches the coordinator on its own loopback, relayed here with a PROXY line
    // naming its data address: no control address inside, where a plan looking for its data
    // interface by a wide mask of TEST_SUBNET could find it. The data address is how a client
    // that never says its name (Testground's sdk-go) is known.
    // Set up while the data network is (they are independent); awaited before any instance starts.
    relaysUp = inParallel(hosts, async (h, i) => {
      relays.push(
        await relayInto(`/run/netns/${h.netns}`, address, planned[i]!.dataIp, `${network.tag}-${i}`, RELAY_DIR),
      );
    }).then(
      () => void tick('relays up'),
      (err: unknown) => err as Error,
    );
    coordinator.knowAddresses(new Map(planned.map((p) => [p.dataIp, p.name])));
    // Names resolve on the data network: etcd-0, and etcd (its whole group).
    // The names as they are now: an instance moved to another data address takes its names along.
    const names = planned.map((p) => ({ name: p.name, group: p.group, dataIp: p.dataIp }));
    if (!loopback && !network.writeHosts(hostsFile(names))) {
      io.stderr('tgc: /etc/netns cannot be written here: instance names resolve through TGC_PEERS only\n');
    }
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
    const classify = classification(plan, 'local');
    if (backend === 'kernel') how += `, classified by ${classify === 'mark' ? "the sender's mark" : 'address'}`;
    startBanner(
      o,
      o.userns ? 'local (rootless: not root, so in a user namespace of its own)' : 'local',
      `${backend}${how} · ${o.outDir}`,
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
      shaped = await UserspaceNetwork.start({
        plan,
        instances,
        prefix,
        coordinator: address,
        ...(o.busyPoll === true && { nativeWire: { busyPoll: true } }),
        onAddress: (name, ip) => {
          names.find((n) => n.name === name)!.dataIp = ip;
          network.writeHosts(hostsFile(names));
        },
      });
      if (o.busyPoll === true && shaped.engineName !== 'native')
        say('tgc: --busy-poll: the native wire is not built here (npm run build needs gcc); the Node wire sleeps');
    } else if (!loopback) {
      // A plain bridge for the data network; with kernel shaping, tc on every data0.
      await network.addDataNetwork(
        hosts,
        planned.map((p) => p.dataIp),
        prefix,
      );
      if (backend === 'kernel') {
        await inParallel(planned, async (p) => {
          const link = await AgentLink.open(address, p.name, { dataIp: p.dataIp });
          agentLinks.push(link);
          await startKernelShaping({
            plan,
            instance: p.name,
            group: p.group,
            device: 'data0',
            tc: tcRunner(hosts[p.index]!.netns),
            addresses,
            link,
            addressOf: (name) => planned.find((x) => x.name === name)?.dataIp,
            classify,
            net: netRunner(hosts[p.index]!.netns),
            allAddresses: async () => addresses,
          });
        });
      }
    }
    tick('network ready');
    const relayError = await relaysUp;
    if (relayError) throw relayError;
    // Services first: the tests start once the programs they test are running.
    const isService = (p: { group: string }) => plan.groups.find((x) => x.id === p.group)!.role === 'service';
    const order = [...planned.entries()].sort(([, a], [, b]) => Number(isService(b)) - Number(isService(a)));
    for (const [i, p] of order) {
      if (o.signal.aborted) break;
      const g = plan.groups.find((x) => x.id === p.group)!;
      const outputs = resolve(o.outDir, 'outputs', p.name);
      mkdirSync(outputs, { recursive: true });
      const temp = resolve(o.outDir, 'temp', p.name);
      if (plan.testground) mkdirSync(temp, { recursive: true });
      const log = createWriteStream(join(o.outDir, 'logs', `${p.name}.log`));
      logs.push(log);
      launchers.set(p.name, () => launch(i, p, g, { outputs, temp, log }));
      launchers.get(p.name)!();
    }

    function launch(
      i: number,
      p: (typeof planned)[number],
      g: Plan['groups'][number],
      { outputs, temp, log }: { outputs: string; temp: string; log: WriteStream },
    ): void {
      const env = {
        PATH: o.env.PATH ? `${tools}:${o.env.PATH}` : tools,
        HOME: o.env.HOME,
        LANG: o.env.LANG,
        NODE_OPTIONS: o.env.NODE_OPTIONS,
        ...instanceEnv(plan, g, {
          runId: o.runId,
          instance: p.name,
          coordinator: loopback ? address : `127.0.0.1:${RELAY_PORT}`,
          outputs,
          subnet,
          dataIp: p.dataIp,
          startTime: startedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
          temp,
          peers,
        }),
      };
      const command = g.command!;
      const argv = loopback ? command : ['ip', 'netns', 'exec', hosts[i]!.netns, ...command];
      // Its own process group (detached), so teardown can signal whatever it started too.
      const child = execa(argv[0]!, argv.slice(1), {
        cwd: o.cwd,
        env,
        extendEnv: false,
        stdin: 'ignore',
        detached: true,
        buffer: false,
        reject: false,
      });
      procs.set(p.name, child);
      const stream = (data: Buffer) => {
        log.write(data);
        if (o.json) return;
        if (io.tty) io.stderr('\r\x1b[K');
        for (const line of data.toString('utf8').replace(/\n$/, '').split('\n')) io.stdout(`${p.name} | ${line}\n`);
      };
      child.stdout.on('data', stream);
      // sdk-go prints its events on stdout: for a plan without an init context, its only report.
      // Not for a Testground composition: there only run events decide (RunState.exited).
      let pending = '';
      child.stdout.on('data', (data: Buffer) => {
        const lines = (pending + data.toString('utf8')).split('\n');
        pending = lines.pop()!.slice(-65536);
        for (const line of lines) {
          const found = outcomeFromLine(line);
          if (found && g.role !== 'service' && !plan.testground)
            coordinator.reported(p.name, p.group, found.outcome, found.reason);
        }
      });
      child.stderr.on('data', stream);
      child.on('error', (err: Error) => coordinator.crashed(p.name, p.group, `could not start: ${err.message}`));
      child.on('exit', (code: number | null, sig: NodeJS.Signals | null) => {
        exits.set(p.name, code ?? (sig ? 128 : null));
        const scheduled = processes.ended(p.name);
        // What it sent just before it ended is read first; then the exit decides, if nothing did.
        setTimeout(() => {
          const tail = logTail(join(o.outDir, 'logs', `${p.name}.log`), 1500);
          if (g.role !== 'service') return coordinator.exited(p.name, p.group, sig ? null : code, sig, tail);
          // The schedule stopped it: no failure of the service.
          if (scheduled) return;
          // A service that stops before the run is decided fails it (unless the plan expects it to).
          if (g.onExit !== 'ignore' && !coordinator.results) {
            coordinator.abort(
              `service ${p.name} ${sig ? `was killed by ${sig}` : `exited with code ${code}`}\n${tail}`,
            );
          }
        }, 200);
      });
    }

    tick('instances started');

    ticker = setInterval(() => progress.show(coordinator.status()), io.tty ? 200 : 1000);

    const results: Results = await coordinator.ended;
    // Give instances that just got `stop` a moment to exit on their own.
    const grace = Date.now() + 2000;
    while ([...procs.values()].some((p) => p.exitCode === null && p.signalCode === null) && Date.now() < grace)
      await sleep(50);
    await teardown();
    return finishRun(o, {
      target: 'local',
      backend,
      startedAt,
      results,
      exits,
      interrupted,
      addresses: new Map(planned.map((p) => [p.name, p.dataIp])),
    });
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
