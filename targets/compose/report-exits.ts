import { execa } from 'execa';
import { exec } from '../driver/exec.js';
import { connectExitSink, containerExit, type InstanceRoles } from '../driver/exit-sink.js';
import { RUN_LABEL } from './render.js';

export interface ExitReporter {
  close(): void;
}

/**
 * Tells the coordinator how each instance container ends: `docker events` for the containers
 * that die from now on, and one look at those that already have.
 */
export async function reportExits(o: {
  readonly coordinator: { readonly host: string; readonly port: number };
  readonly runId: string;
  readonly instances: InstanceRoles;
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<ExitReporter> {
  const sink = await connectExitSink(o.coordinator, o.instances);
  const report = (id: string, service: string, code: number) =>
    sink.report(service, containerExit(code), async () => {
      const logs = await exec('docker', ['logs', '--tail', '20', id], { env: o.env });
      return `${logs.stdout}${logs.stderr}`;
    });
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
        if (e.id && service && a.exitCode !== undefined) report(e.id, service, Number(a.exitCode));
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
    if (!service || sink.has(service)) continue;
    const code = await exec('docker', ['inspect', '--format', '{{.State.ExitCode}}', id!], { env: o.env });
    if (code.code === 0) report(id!, service, Number(code.stdout.trim()));
  }
  return {
    close: () => {
      events.kill('SIGTERM');
      sink.close();
    },
  };
}
