import { constants } from 'node:os';
import { execa } from 'execa';
import { ProtocolClient } from '../../protocol/client.js';
import { exec } from '../driver/exec.js';
import { RUN_LABEL } from './render.js';

/** Exit codes of containers killed by a signal are 128 + its number. */
const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [128 + n, name]));

export interface ExitReporter {
  close(): void;
}

/**
 * Tells the coordinator how each instance container ended (an exit code is an outcome,
 * docs/protocol.md): `docker events` for the containers that die from now on, and one look at
 * those that already have. A role `driver` connection carries the `exited` requests.
 */
export async function reportExits(o: {
  readonly coordinator: { readonly host: string; readonly port: number };
  readonly runId: string;
  /** Instance name → its group, and for a service instance whether its exit fails the run. */
  readonly instances: ReadonlyMap<string, { readonly group: string; readonly service?: 'fail' | 'ignore' }>;
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<ExitReporter> {
  const socket = await ProtocolClient.socket(o.coordinator.host, o.coordinator.port, 30_000).catch(() => undefined);
  if (!socket) return { close: () => undefined };
  const client = new ProtocolClient(socket, { onEvent: () => undefined, onClose: () => undefined });
  // A run already decided (they can be quick) has no use for exits: nothing to report then.
  const registered = await client.request('register', { role: 'driver' }).then(
    () => true,
    () => false,
  );
  if (!registered) {
    client.destroy();
    return { close: () => undefined };
  }
  const seen = new Set<string>();
  const report = async (id: string, service: string, code: number) => {
    const known = o.instances.get(service);
    if (!known || seen.has(id)) return;
    seen.add(id);
    const logs = await exec('docker', ['logs', '--tail', '20', id], { env: o.env });
    const signal = SIGNAL_NAMES.get(code) ?? null;
    const log = `${logs.stdout}${logs.stderr}`.slice(-1500);
    if (known.service === 'ignore') return;
    const request = known.service
      ? // A service that stops before the run is decided fails it.
        client.request('abort', {
          reason:
            `service ${service} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}` + `\n${log.trim()}`,
        })
      : client.request('exited', { instance: service, group: known.group, code: signal ? null : code, signal, log });
    await request.catch(() => undefined);
  };
  const filter = ['--filter', `label=${RUN_LABEL}=${o.runId}`];
  const events = execa('docker', ['events', ...filter, '--filter', 'event=die', '--format', '{{json .}}'], {
    env: o.env,
    extendEnv: false,
    stdin: 'ignore',
    stderr: 'ignore',
    buffer: false,
    reject: false,
  });
  let pending = '';
  events.stdout?.on('data', (d: Buffer) => {
    const lines = (pending + d.toString('utf8')).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as { id?: string; Actor?: { Attributes?: Record<string, string> } };
        const a = e.Actor?.Attributes ?? {};
        const service = a['com.docker.compose.service'];
        if (e.id && service && a.exitCode !== undefined) void report(e.id, service, Number(a.exitCode));
      } catch {
        // not an event line
      }
    }
  });
  // Those that ended before the events were followed.
  const ps = await exec(
    'docker',
    ['ps', '-a', ...filter, '--filter', 'status=exited', '--format', '{{.ID}} {{.Label "com.docker.compose.service"}}'],
    { env: o.env },
  );
  for (const line of ps.stdout.split('\n').filter(Boolean)) {
    const [id, service] = line.split(' ');
    const code = await exec('docker', ['inspect', '--format', '{{.State.ExitCode}}', id!], { env: o.env });
    if (service && code.code === 0) await report(id!, service, Number(code.stdout.trim()));
  }
  return {
    close: () => {
      events.kill('SIGTERM');
      client.destroy();
    },
  };
}
