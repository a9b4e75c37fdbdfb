import { runCommand, type CommandResult } from './run-command.js';
import type { TcPlan } from './tc-plan.js';

/** Runs `tc` with arguments (and optional stdin); never throws, reports the exit code. */
export type TcRunner = (args: readonly string[], input?: string) => Promise<CommandResult>;

/** `tc`, optionally inside a named network namespace (`tc -n NS …`). */
export function tcRunner(netns?: string): TcRunner {
  return (args, input) => runCommand('tc', netns ? ['-n', netns, ...args] : args, input);
}

export interface KernelCapabilities {
  readonly htb: boolean;
  readonly u32: boolean;
  /** The mirred action, which partitions use to discard packets silently. */
  readonly drop: boolean;
  readonly netem: boolean;
  /** What tc said where a piece failed. */
  readonly errors: Readonly<Record<string, string>>;
}

/**
 * Tries each piece the kernel backend uses on `device` and removes what it added: HTB,
 * a u32 filter, a drop action, and the `sch_netem` qdisc. Run it before shaping is applied.
 */
export async function probeKernel(device: string, tc: TcRunner): Promise<KernelCapabilities> {
  const errors: Record<string, string> = {};
  const attempt = async (name: string, args: string[]) => {
    const r = await tc(args);
    if (r.code !== 0) errors[name] = r.stderr.trim() || `tc exited ${r.code}`;
    return r.code === 0;
  };
  const tcArgs = (line: string) => line.split(' ');
  const root = ['qdisc', 'del', 'dev', device, 'root'];
  await tc(root);
  const netem = await attempt('netem', tcArgs(`qdisc add dev ${device} root handle 1: netem delay 1ms`));
  await tc(root);
  const htb =
    (await attempt('htb', tcArgs(`qdisc add dev ${device} root handle 1: htb default 1`))) &&
    (await attempt('htb', tcArgs(`class add dev ${device} parent 1: classid 1:1 htb rate 1mbit`)));
  const filter = `filter add dev ${device} parent 1: protocol ip`;
  const u32 = htb && (await attempt('u32', tcArgs(`${filter} prio 9 u32 match ip dst 198.18.255.255/32 flowid 1:1`)));
  const drop =
    htb &&
    (await attempt(
      'drop',
      tcArgs(`${filter} prio 8 u32 match ip dst 198.18.255.254/32 action mirred egress redirect dev lo`),
    ));
  await tc(root);
  return { htb, u32, drop, netem, errors };
}

/** Why this kernel cannot apply `plan`, naming the missing piece; undefined when it can. */
export function kernelShortfall(plan: TcPlan, caps: KernelCapabilities): string | undefined {
  const needs: { needed: boolean; key: 'htb' | 'u32' | 'drop' | 'netem'; module: string; what: string }[] = [
    { needed: true, key: 'htb', module: 'sch_htb', what: 'the HTB qdisc (sch_htb)' },
    { needed: true, key: 'u32', module: 'cls_u32', what: 'the u32 classifier (cls_u32)' },
    {
      needed: plan.batch.some((l) => l.includes('action mirred')),
      key: 'drop',
      module: 'act_mirred',
      what: 'the mirred action (act_mirred), which partitions use',
    },
    {
      needed: plan.needsNetem,
      key: 'netem',
      module: 'sch_netem',
      what: 'the netem qdisc (sch_netem), for delay, jitter, loss, duplicate, corrupt and reorder',
    },
  ];
  for (const { needed, key, module, what } of needs) {
    if (needed && !caps[key]) {
      return (
        `this kernel lacks ${what}: ${(caps.errors[key] ?? 'unavailable').replace(/\.$/, '')}. Load the ` +
        `module (modprobe ${module}) or use shaping = "userspace"`
      );
    }
  }
  return undefined;
}

/** Replaces the device's egress setup with `plan` (one `tc -batch`). */
export async function applyTc(device: string, plan: TcPlan, tc: TcRunner): Promise<void> {
  await tc(['qdisc', 'del', 'dev', device, 'root']);
  const r = await tc(['-batch', '-'], plan.batch.join('\n') + '\n');
  if (r.code !== 0) throw new Error(`tc failed on ${device}: ${r.stderr.trim()}`);
}
