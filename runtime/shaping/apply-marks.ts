import { runCommand, type CommandResult } from './run-command.js';
import type { TcRunner } from './kernel-backend.js';
import { DROP_CHAIN, MARK_CHAIN, type MarkPlan } from './mark-plan.js';

/** Runs a network command (`ip`, `iptables`) here or inside a named network namespace. */
export type NetRunner = (cmd: 'ip' | 'iptables', args: readonly string[]) => Promise<CommandResult>;

export function netRunner(netns?: string): NetRunner {
  return (cmd, args) =>
    netns
      ? runCommand('ip', cmd === 'ip' ? ['-n', netns, ...args] : ['netns', 'exec', netns, cmd, ...args])
      : runCommand(cmd, [...args]);
}

/**
 * Applies a mark plan to `device` (mark-plan.ts), replacing what an earlier one set: the IFB
 * device (created once), the ingress redirect and the IFB's classes, and tgc's two iptables
 * chains (flushed and refilled; hooked into POSTROUTING and INPUT once).
 */
export async function applyMarkPlan(
  device: string,
  ifb: string,
  plan: MarkPlan,
  tc: TcRunner,
  net: NetRunner,
): Promise<void> {
  const must = async (r: Promise<CommandResult>, what: string) => {
    const done = await r;
    if (done.code !== 0) throw new Error(`${what}: ${done.stderr.trim() || `exit ${done.code}`}`);
  };
  if ((await net('ip', ['link', 'show', ifb])).code !== 0) {
    await must(
      net('ip', ['link', 'add', ifb, 'type', 'ifb']),
      `cannot create the IFB device ${ifb} (modprobe ifb on the host)`,
    );
  }
  await must(net('ip', ['link', 'set', ifb, 'up']), `cannot bring ${ifb} up`);
  for (const [table, chain, hook, rules] of [
    ['mangle', MARK_CHAIN, 'POSTROUTING', plan.mangle],
    ['filter', DROP_CHAIN, 'INPUT', plan.filter],
  ] as const) {
    await net('iptables', ['-t', table, '-N', chain]);
    await must(net('iptables', ['-t', table, '-F', chain]), `iptables -t ${table} -F ${chain}`);
    for (const rule of rules) await must(net('iptables', ['-t', table, ...rule]), `iptables ${rule.join(' ')}`);
    if ((await net('iptables', ['-t', table, '-C', hook, '-j', chain])).code !== 0)
      await must(net('iptables', ['-t', table, '-A', hook, '-j', chain]), `iptables -t ${table} -A ${hook}`);
  }
  await tc(['qdisc', 'del', 'dev', device, 'ingress']);
  await tc(['qdisc', 'del', 'dev', ifb, 'root']);
  const r = await tc(['-batch', '-'], plan.tc.join('\n') + '\n');
  if (r.code !== 0) throw new Error(`tc failed on ${device}/${ifb}: ${r.stderr.trim()}`);
}
