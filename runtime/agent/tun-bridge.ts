import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { deviceAppears, socatTun } from '../shaping/device-appears.js';
import { stderrTail } from '../shaping/run-command.js';

/** A TUN device of this namespace whose packets socat carries over loopback UDP. */
export interface TunBridge {
  readonly socat: ChildProcess;
  readonly device: string;
  /** socat's UDP port on the loopback. */
  readonly port: number;
  /**
   * Why the device is gone (socat ended, and what it said), or undefined while socat holds it;
   * waits a moment for an ending that is under way.
   */
  gone(): Promise<string | undefined>;
}

/**
 * Starts socat holding TUN device `device` and carrying its packets between 127.0.0.1:`port`
 * and the wire at 127.0.0.1:`wirePort`; resolves once the device exists.
 */
export async function tunBridge(device: string, port: number, wirePort: number): Promise<TunBridge> {
  const socat = spawn('socat', ['-b', '65536', socatTun(device), `UDP:127.0.0.1:${wirePort},bind=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const said = stderrTail(socat);
  let failedToStart = '';
  socat.once('error', (err) => (failedToStart = `cannot start socat: ${err.message}`));
  try {
    await deviceAppears(device, socat, 10_000, () => (said() + failedToStart).trim());
  } catch (err) {
    socat.kill('SIGKILL');
    throw err;
  }
  const gone = async () => {
    const running = () => socat.exitCode === null && socat.signalCode === null;
    if (running()) await Promise.race([once(socat, 'exit'), new Promise((r) => setTimeout(r, 500))]);
    if (running()) return undefined;
    const how = socat.signalCode ? `was killed (${socat.signalCode})` : `exited with code ${socat.exitCode}`;
    return `socat, which held ${device}, ${how}${said().trim() ? `: ${said().trim()}` : ''}`;
  };
  return { socat, device, port, gone };
}
