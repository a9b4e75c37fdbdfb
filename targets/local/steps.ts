import { RELAY_PORT } from '../../runtime/agent/relay.js';
import { planEgress } from '../../model/egress-plan.js';
import { instanceLayout } from '../../model/instance-layout.js';
import { renderTc } from '../../runtime/shaping/tc-plan.js';
import type { RunOptions } from '../target.js';
import { nativeWireBinary } from './native-wire.js';
import { bridgedTrafficFiltered, CONTROL_SUBNET, LocalNetwork, RELAY_DIR } from './network.js';
import { INSIDE_COMMAND } from './inside-command.js';
import { socatTun } from './device-appears.js';
import { INSIDE_SETUP, UNSHARE } from './rootless.js';
import { shellWord } from '../../model/shell-word.js';

/** Loopback runs give each instance its own address in here (any 127/8 address is local on Linux). */
export const LOOPBACK_SUBNET = '127.18.0.0/16';

/** What `tgc run --dry-run` prints for the local target, in order. */
export function localSteps(o: RunOptions): string[] {
  const { plan, runId, cwd } = o;
  const loopback = o.loopback === true;
  // Built programs are commands by now (the build step's, printed before these).
  const command = (g: (typeof plan.groups)[number]) => g.command!;
  if (loopback) {
    return [
      `# coordinator (in this process) on 127.0.0.1, expecting ${plan.totalInstances} instances; no namespaces, ` +
        `no shaping`,
      ...instanceLayout(plan, LOOPBACK_SUBNET).map(
        (p) =>
          `${command(plan.groups.find((x) => x.id === p.group)!)
            .map(shellWord)
            .join(' ')}  # ${p.name}, data ` + `address ${p.dataIp}, cwd ${cwd}`,
      ),
    ];
  }
  const tag = runId.slice(-6);
  const planned = instanceLayout(plan);
  const net = new LocalNetwork(tag);
  const prefix = Number(plan.network.subnet.split('/')[1]);
  // Not root: the same run, by a tgc that is root in namespaces of its own (rootless.ts).
  const rootless = o.isRoot
    ? []
    : [
        `${UNSHARE.join(' ')} -- node tgc ${INSIDE_COMMAND}  # rootless: the run as this user, its tgc root in new ` +
          'user, network, mount and PID namespaces (the run on its stdin); in there:',
        ...INSIDE_SETUP.map((argv) => argv.join(' ')),
      ];
  const lines = [
    ...rootless,
    ...LocalNetwork.commandsFor(
      tag,
      planned.map((p) => p.name),
    ).map((c) => c.join(' ')),
  ];
  lines.push(
    `# coordinator (in this process) on ${CONTROL_SUBNET.gateway}, expecting ${plan.totalInstances} instances ` +
      '(the control block shown is the first; a run takes the first that nothing on the host uses)',
  );
  const hosts = planned.map((p) => net.host(p.name, p.index));
  hosts.forEach((h, i) =>
    lines.push(
      `nsenter --net=/run/netns/${h.netns} socat TCP-LISTEN:${RELAY_PORT},bind=127.0.0.1,reuseaddr,fork ` +
        `UNIX-CONNECT:${RELAY_DIR}/tgc-relay-${tag}-${i}.sock  # the coordinator on the instance's loopback, ` +
        `relayed by this process with a PROXY line naming ${planned[i]!.dataIp}`,
    ),
  );
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
          `socat -b 65536 ${socatTun(h.tunDevice)} UDP:127.0.0.1:<wire>,bind=127.0.0.1:<port>`,
          `ip link set dev ${h.tunDevice} netns ${h.netns}`,
        );
      lines.push(
        `ip -n ${h.netns} -batch -  # addr add ${p.dataIp}/${prefix} dev ${h.tunDevice}; link set dev ` +
          `${h.tunDevice} up`,
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
      `tc -n ${net.host(planned[0]!.name, 0).netns} qdisc add dev lo root handle 1: netem delay 1ms  # auto: the ` +
        `probe (then htb, u32, mirred); kernel if it works, else:`,
    );
    userspace();
  }
  for (const p of planned) {
    const g = plan.groups.find((x) => x.id === p.group)!;
    lines.push(`ip netns exec ${net.host(p.name, p.index).netns} ${command(g).map(shellWord).join(' ')}  # cwd ${cwd}`);
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
