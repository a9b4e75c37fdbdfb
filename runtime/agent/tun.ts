import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { deviceAppears } from '../shaping/device-appears.js';
import { resolveHost, type AgentIo, type AgentValues } from './agent-io.js';
import { EXIT } from '../../model/exit-codes.js';

/** `tun`: the userspace backend's data interface, a TUN device (socat) carried to the wire over UDP. */
export async function tunAgent(values: AgentValues, io: AgentIo): Promise<number> {
  const ip = String(values.ip ?? '');
  const wire = /^(.+):([0-9]+)$/.exec(String(values.wire ?? ''));
  const port = Number(values.port);
  const device = String(values.device);
  if (!/^[0-9.]+\/[0-9]+$/.test(ip) || !wire || !Number.isInteger(port))
    throw new Error('tun needs --ip A/P, --wire HOST:PORT and --port P');
  const wireIp = await resolveHost(wire[1]!, 60_000);
  const socat = spawn(
    'socat',
    [
      '-b',
      '65536',
      `TUN:${ip},tun-name=${device},iff-no-pi,tun-type=tun,iff-up`,
      `UDP:${wireIp}:${wire[2]},bind=:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<number>((resolve) => {
    socat.once('exit', (code) => resolve(code ?? 1));
    socat.once('error', (err) => {
      io.stderr(`tgc agent: cannot start socat: ${err.message}\n`);
      resolve(3);
    });
  });
  try {
    await deviceAppears(device, socat, 10_000, () => '');
  } catch (err) {
    socat.kill('SIGTERM');
    throw err;
  }
  if (typeof values['ready-file'] === 'string') writeFileSync(values['ready-file'], 'ready\n');
  io.stderr(`tgc agent: ${device} ${ip} ↔ wire ${wire[1]}:${wire[2]}\n`);
  const ended = await Promise.race([exited, io.terminated.then(() => 'terminated' as const)]);
  if (ended === 'terminated') {
    socat.kill('SIGTERM');
    return EXIT.ok;
  }
  return ended;
}
