import { parseArgs } from 'node:util';
import type { AgentIo } from './agent-io.js';
import { kernelAgent } from './kernel.js';
import { tunAgent } from './tun.js';
import { hostAgent } from './host.js';
import { EXIT } from '../../model/exit-codes.js';

export type { AgentIo, AgentShaping } from './agent-io.js';
export { ADDRESS_TOPIC } from './agent-io.js';
export { dataInterface } from './kernel.js';

export const AGENT_USAGE = `Usage: node agent.mjs <host|kernel|tun> [options]

The shaping agent of a container deployment (docs/network.md). The environment carries the
instance's identity (TGC_INSTANCE, TGC_GROUP, TGC_COORDINATOR, TGC_DATA_SUBNET), the run's
(TGC_RUN_ID) and the plan's shapes (TGC_SHAPING, JSON).

  host     the agent of every instance container of the run on this Docker host (compose):
           sets up each one's data path in its network namespace as it starts — the wire and
           a TUN bridge (userspace), or a kernel agent (kernel) — and marks it shaped
  kernel   shape this network namespace's data interface with tc, report network-ready, apply
           mid-run changes; exits when the run ends
  tun      the userspace backend's data interface: a TUN device (socat) whose packets go to
           the wire over UDP

Options:
  --backend B        host: kernel or userspace
  --docker SOCKET    host: the Docker API's socket (default /var/run/docker.sock)
  --state DIR        host: where instances' shaped markers go (default /tgc-state)
  --ready-file F     kernel, tun: written once shaping is in place
  --ip A/P           tun: the instance's data address and prefix, e.g. 198.18.0.2/16
  --wire H:P         tun: the wire's host and UDP port
  --port P           tun: the UDP port to send from and receive on
  --device NAME      tun: the device name (default data0)
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
        ip: { type: 'string' },
        wire: { type: 'string' },
        port: { type: 'string' },
        backend: { type: 'string' },
        docker: { type: 'string' },
        state: { type: 'string' },
        device: { type: 'string', default: 'data0' },
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
    if (mode === 'tun') return await tunAgent(values, io);
    if (mode === 'host') return await hostAgent(values, io);
  } catch (err) {
    io.stderr(`tgc agent: ${(err as Error).message}\n`);
    return EXIT.runFailed;
  }
  io.stderr(`tgc agent: say host, kernel or tun\n\n${AGENT_USAGE}\n`);
  return EXIT.invalid;
}
