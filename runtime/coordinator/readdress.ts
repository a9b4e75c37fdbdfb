// Testground's `network.Config.IPv4`: an instance asks for another data address. Its shaping
// agent moves it (docs/protocol.md, "Network": the `address` event); the run then knows the
// instance by it — rules, sdk-go's identification by address, results — and the agents that
// keep names (hosts files) follow.
import { parseIpv4 } from '../../model/ipv4.js';
import type { Conn, Instance } from './types.js';
import type { RunState } from './run-state.js';

/** An address asked for: `"198.18.7.1/12"`, or without a mask (the current one stays). */
export interface AskedAddress {
  readonly ip: string;
  readonly prefix: number | undefined;
}

/** `IPv4` as sdk-go sends it (a CIDR string), or why it is not one. */
export function askedAddress(text: string): AskedAddress | { readonly error: string } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(text);
  const prefix = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || m[1]!.split('.').some((o) => Number(o) > 255) || (prefix !== undefined && (prefix < 1 || prefix > 32)))
    return { error: `IPv4 "${text}" is not an IPv4 address with its mask (such as 198.18.7.1/16)` };
  return { ip: m[1]!, prefix };
}

/**
 * Moves `inst` to `asked` through its agent; resolves once the address is in place and the run
 * knows it, rejects with the agent's reason (or because another instance has it).
 */
export function readdress(run: RunState, agent: Conn, inst: Instance, asked: AskedAddress): Promise<void> {
  const taken = [...run.dataIps].find(([name, ip]) => ip === asked.ip && name !== inst.name);
  if (taken) return Promise.reject(new Error(`${asked.ip} is the data address of ${taken[0]}`));
  if (parseIpv4(asked.ip) === 0) return Promise.reject(new Error(`0.0.0.0 cannot be an instance's address`));
  return new Promise((resolve, reject) => {
    const ref = run.nextRef++;
    run.pendingConfigures.set(ref, {
      id: undefined,
      by: inst,
      agent,
      callbackState: undefined,
      shape: { IPv4: asked.prefix === undefined ? asked.ip : `${asked.ip}/${asked.prefix}` },
      done: (error) => {
        if (error !== undefined) return reject(new Error(error));
        run.dataIps.set(inst.name, asked.ip);
        inst.dataIp = asked.ip;
        // Connections from the new address are this instance's; those relayed with the old one still are.
        run.addresses.know(asked.ip, inst.name, true);
        resolve();
      },
    });
    run.net.send(
      agent,
      JSON.stringify({ event: 'address', ref, instance: inst.name, ip: asked.ip, prefix: asked.prefix ?? null }) + '\n',
    );
  });
}
