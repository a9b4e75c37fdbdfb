import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { execa } from 'execa';
import { deviceAppears, socatTun } from './device-appears.js';
import { execOrThrow } from '../driver/exec.js';
import { ipBatch } from './ip-batch.js';

export interface TunBridgeOptions {
  /** The network namespace the instance lives in (`ip netns` name). */
  readonly netns: string;
  /** TUN device name, at most 15 characters. */
  readonly device: string;
  /** The instance's data address and the subnet's prefix length. */
  readonly ip: string;
  readonly prefix: number;
  /** The wire's UDP port on 127.0.0.1. */
  readonly wirePort: number;
  /** @default "socat" */
  readonly socat?: string;
}

export interface TunBridge {
  /** The loopback UDP port the bridge sends from and receives on. */
  readonly port: number;
  readonly process: Pick<ChildProcess, 'exitCode' | 'signalCode' | 'pid' | 'kill' | 'once'>;
  close(): Promise<void>;
}

/** A free UDP port on loopback (bound, read and released: the bridge binds it right after). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Gives an instance its data interface: socat, in this (the host's) namespace, creates a TUN
 * device and carries its packets as UDP datagrams to and from the wire; the device is then
 * moved into the instance's namespace and given its address. The descriptor socat holds keeps
 * working across the move, so the instance's namespace needs no way out but the TUN.
 */
export async function attachTun(options: TunBridgeOptions): Promise<TunBridge> {
  if (options.device.length > 15) throw new Error(`TUN device name ${options.device} is longer than 15 characters`);
  const port = await freeUdpPort();
  const proc = execa(
    options.socat ?? 'socat',
    ['-b', '65536', socatTun(options.device), `UDP:127.0.0.1:${options.wirePort},bind=127.0.0.1:${port}`],
    { stdin: 'ignore', stdout: 'ignore', buffer: false, reject: false },
  );
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
  };
  try {
    await deviceAppears(options.device, proc, 5000, () => stderr.trim());
    await execOrThrow('ip', ['link', 'set', 'dev', options.device, 'netns', options.netns]);
    await ipBatch(
      [`addr add ${options.ip}/${options.prefix} dev ${options.device}`, `link set dev ${options.device} up`],
      options.netns,
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { port, process: proc, close };
}
