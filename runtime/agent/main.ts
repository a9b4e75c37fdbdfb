import { parseArgs } from 'node:util';
import type { AgentIo } from './agent-io.js';
import { kernelAgent } from './kernel.js';
import { hostAgent } from './host.js';
import { EXIT } from '../../model/exit-codes.js';

export type { AgentIo, AgentShaping } from './agent-io.js';
export { ADDRESS_TOPIC } from './agent-io.js';
export { dataInterface } from './kernel.js';

export const AGENT_USAGE = `Usage: node agent.mjs <host|kernel> [options]

The shaping agent of a container deployment (docs/network.md). The environment carries the
instance's identity (TGC_INSTANCE, TGC_GROUP, TGC_COORDINATOR, TGC_DATA_SUBNET), the run's
(TGC_RUN_ID) and the plan's shapes (TGC_SHAPING, JSON).

  host     the agent of every instance container of the run on this Docker host (compose, swarm):
           sets up each one's data path in its network namespace as it starts — a TUN device
           made there by its tgc-sync plumb process, bridged to the wire this process runs
           (userspace), or a kernel agent (kernel) — and marks it shaped
  kernel   shape this network namespace's data interface with tc, report network-ready, apply
           mid-run changes; exits when the run ends

Options:
  --backend B        host: kernel or userspace
  --docker SOCKET    host: the Docker API's socket (default /var/run/docker.sock)
  --state DIR        host: where instances' shaped markers go (default /tgc-state)
  --proc DIR         host: the host's /proc, where the agent does not share its pid namespace
                     (default /proc)
  --peers PORT       host, userspace: one of several hosts (swarm): exchange packets with the
                     other hosts' agents on this UDP port (0: any free one), on the network
                     they share
  --outputs DIR      host: ship DIR of each instance container that ends to the coordinator
                     (PUT /outputs/<instance>), for a driver that cannot read it on this host
  --reap-volumes     host: at its end, have the stack's volumes on this host removed once its
                     containers are gone (a helper container, removed as it ends)
  --ready-file F     kernel: written once shaping is in place
  --shaping FILE     host, kernel: read the plan's shapes from FILE instead of TGC_SHAPING
  -h, --help         show this help`;

/** `node agent.mjs …`; resolves to the exit code. */
export async function agentMain(argv: readonly string[], io: AgentIo): Promise<number> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'ready-file': { type: 'string' },
        backend: { type: 'string' },
        docker: { type: 'string' },
        state: { type: 'string' },
        proc: { type: 'string' },
        peers: { type: 'string' },
        outputs: { type: 'string' },
        'reap-volumes': { type: 'boolean' },
        shaping: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    io.stderr(`tgc agent: ${(err as Error).message}\n\n${AGENT_USAGE}\n`);
    return EXIT.invalid;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stderr(AGENT_USAGE + '\n');
    return EXIT.ok;
  }
  const mode = positionals[0];
  try {
    if (mode === 'kernel') return await kernelAgent(values, io);
    if (mode === 'host') return await hostAgent(values, io);
  } catch (err) {
    io.stderr(`tgc agent: ${(err as Error).message}\n`);
    return EXIT.runFailed;
  }
  io.stderr(`tgc agent: say host or kernel\n\n${AGENT_USAGE}\n`);
  return EXIT.invalid;
}
