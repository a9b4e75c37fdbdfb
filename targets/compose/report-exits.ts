import { execa } from 'execa';
import { exec } from '../driver/exec.js';
import { connectExitSink, containerExit, type InstanceRoles } from '../driver/exit-sink.js';
import type { ProcessAction } from '../../schema/ir.js';
import { RUN_LABEL } from './render.js';

export interface ExitReporter {
  close(): void;
}

/** The docker command line that carries out a schedule's process action on container `id`. */
export function dockerProcessArgs(action: ProcessAction, id: string): string[] {
  return {
    kill: ['kill', id],
    stop: ['stop', '-t', '5', id],
    restart: ['restart', '-t', '5', id],
    pause: ['pause', id],
    resume: ['unpause', id],
  }[action];
}

/** How often the exited containers are listed, for the exits `docker events` missed. */
const SWEEP_MS = 3000;

/**
 * Tells the coordinator how each instance container ends: `docker events` for the containers
 * that die from now on, and one look at those that already have.
 */
export async function reportExits(o: {
  readonly coordinator: { readonly host: string; readonly port: number };
  readonly runId: string;
  readonly instances: InstanceRoles;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The container of each instance, by name. */
  readonly containerOf: (instance: string) => Promise<string | undefined>;
}): Promise<ExitReporter> {
  // The schedule's process actions, with the container runtime (docs/composition.md, Events).
  const act = async (action: ProcessAction, names: readonly string[]) => {
    await Promise.all(
      names.map(async (name) => {
        const id = await o.containerOf(name);
        if (!id) throw new Error(`${name} has no container`);
        if (action === 'kill' || action === 'stop' || action === 'restart') sink.expect(name);
        const argv = dockerProcessArgs(action, id);
        const r = await exec('docker', argv, { env: o.env });
        if (r.code !== 0) throw new Error(`docker ${argv[0]} ${name}: ${r.stderr.trim()}`);
      }),
    );
  };
  const sink = await connectExitSink(o.coordinator, o.instances, act);
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
  // Those that ended before the events were followed — and, looked at again every few seconds,
  // those that ended while `docker events` was starting (it says nothing when it is listening).
  const sweep = async () => {
    const ps = await exec(
      'docker',
      [
        'ps',
        '-a',
        ...filter,
        '--filter',
        'status=exited',
        '--format',
        '{{.ID}} {{.Label "com.docker.compose.service"}}',
      ],
      { env: o.env },
    );
    for (const line of ps.stdout.split('\n').filter(Boolean)) {
      const [id, service] = line.split(' ');
      if (!service || sink.has(service)) continue;
      const code = await exec('docker', ['inspect', '--format', '{{.State.ExitCode}}', id!], { env: o.env });
      if (code.code === 0) report(id!, service, Number(code.stdout.trim()));
    }
  };
  await sweep();
  let sweeping = false;
  const again = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void sweep()
      .catch(() => undefined)
      .finally(() => (sweeping = false));
  }, SWEEP_MS);
  return {
    close: () => {
      clearInterval(again);
      events.kill('SIGTERM');
      sink.close();
    },
  };
}
