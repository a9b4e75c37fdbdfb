import { join } from 'node:path';
import type { Plan } from '../../schema/ir.js';
import { nomadJobName, nomadServiceName } from './render.js';
import type { RunOptions } from '../target.js';
import { pollInterval } from '../driver/poll-interval.js';

type Argv = readonly string[];

/** Every command `tgc run --target nomad` issues, as argument vectors (see `k8sSteps`). */
export function nomadSteps(plan: Plan, o: RunOptions) {
  const job = nomadJobName(plan, o.runId);
  const file = join(o.outDir, 'deploy', `${plan.name}.nomad.hcl`);
  return {
    job,
    file,
    version: ['nomad', 'version'] as Argv,
    status: ['nomad', 'status'] as Argv,
    validate: ['nomad', 'job', 'validate', file] as Argv,
    run: ['nomad', 'job', 'run', '-detach', file] as Argv,
    service: ['nomad', 'service', 'info', '-json', nomadServiceName(plan, o.runId)] as Argv,
    allocs: ['nomad', 'job', 'allocs', '-json', job] as Argv,
    tail: (alloc: string, stderr = false): Argv => [
      'nomad',
      'alloc',
      'logs',
      ...(stderr ? ['-stderr'] : []),
      '-tail',
      '-n',
      '20',
      alloc,
      'instance',
    ],
    stdout: (alloc: string): Argv => ['nomad', 'alloc', 'logs', alloc, 'instance'],
    stderr: (alloc: string): Argv => ['nomad', 'alloc', 'logs', '-stderr', alloc, 'instance'],
    stop: ['nomad', 'job', 'stop', '-purge', job] as Argv,
  };
}

const line = (argv: Argv, comment?: string) => argv.join(' ') + (comment ? `  # ${comment}` : '');

/** `tgc run --target nomad`, step by step: what `--dry-run` prints, in order. */
export function nomadCommands(plan: Plan, o: RunOptions): string[] {
  const s = nomadSteps(plan, o);
  return [
    line(s.version),
    line(s.status, 'reaches NOMAD_ADDR'),
    `tgc compile ${o.planFile} --target nomad -o ${join(o.outDir, 'deploy')}  # in-process, with the run id ` +
      `${o.runId} in the job`,
    line(s.validate),
    line(s.run),
    line(s.service, 'every second until the coordinator is registered: its address'),
    `GET http://<that address>/status  # every 250 ms until the run ends, then GET /results`,
    `${line(s.allocs)}; ${line(s.tail('<alloc>'))}; ${line(s.tail('<alloc>', true))}  # meanwhile every ` +
      `${pollInterval(plan.totalInstances) / 1000} s: each instance task that ended, told to the coordinator (its ` +
      'exit code is its outcome if it reported none)',
    line(s.allocs),
    ...plan.groups.map(
      (g) =>
        `${line(s.stdout(`<alloc of ${g.id}>`))}; ${line(s.stderr('<alloc>'))}  ` +
        `# each of the ${g.instances} allocation${g.instances === 1 ? '' : 's'}, into ${join(o.outDir, 'logs')}/`,
    ),
    line(s.stop),
  ];
}
