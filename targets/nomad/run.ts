import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nomadSteps } from './steps.js';
import { EnvironmentError } from '../driver/environment-error.js';
import { exec, sleep } from '../driver/exec.js';
import { finishRun, startBanner } from '../driver/finish-run.js';
import { followCoordinator } from '../driver/follow-coordinator.js';
import { guarded } from '../driver/guarded.js';
import { loadRuntimeBundle } from '../runtime-bundle.js';
import type { RunOptions } from '../target.js';
import { classification } from '../../model/egress-plan.js';
import { writeOutput } from '../output-dir.js';
import { nomadRenderer } from './render.js';
import { watchExits } from '../driver/exit-sink.js';
import { allocExit, allocInstance, type AllocInfo } from './alloc-exits.js';

/**
 * `tgc run --target nomad`: the steps `nomadCommands` lists, run — `nomad job run`, find the
 * coordinator in Nomad's service catalogue, follow it, collect every allocation's instance
 * log and exit code, `nomad job stop -purge` (also on failure and Ctrl-C).
 */
export async function runNomad(o: RunOptions): Promise<number> {
  const { plan, io } = o;
  const steps = nomadSteps(plan, o);
  const { job, file } = steps;
  const run = (argv: readonly string[]) => exec(argv[0]!, argv.slice(1));
  if ((await run(steps.version)).code !== 0)
    throw new EnvironmentError(
      'nomad does not run (nomad version failed): reinstall it (https://developer.hashicorp.com/nomad/install)',
    );
  const reach = await run(steps.status);
  if (reach.code !== 0)
    throw new EnvironmentError(
      `the Nomad API at NOMAD_ADDR does not answer (${reach.stderr.trim()}): check NOMAD_ADDR and NOMAD_TOKEN`,
    );
  const say = (line: string) => !o.json && io.stderr(line + '\n');
  startBanner(
    o,
    `nomad (job ${job})`,
    plan.network.shaping === 'off'
      ? 'off'
      : `kernel, classified by ${classification(plan, 'nomad') === 'mark' ? "the sender's mark" : 'address'}`,
  );
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  writeOutput(
    dirname(file),
    nomadRenderer.render(plan, {
      runtime: loadRuntimeBundle(),
      runId: o.runId,
      ...(o.runtimeImage && { runtimeImage: o.runtimeImage }),
    }),
  );
  const startedAt = new Date();
  let submitted = false;
  let exitWatch: { close(): void } | undefined;
  const teardown = async () => {
    exitWatch?.close();
    if (!submitted) return;
    const r = await run(steps.stop);
    if (r.code !== 0)
      io.stderr(`tgc: nomad job stop failed (${r.stderr.trim()}); remove it with: ${steps.stop.join(' ')}\n`);
  };
  return guarded(
    { signal: o.signal, say, collect, teardown, stopping: 'stopping and purging the job' },
    async ({ interrupted, stop }) => {
      const valid = await run(steps.validate);
      if (valid.code !== 0)
        throw new EnvironmentError(
          `nomad job validate refused the job:\n${valid.stderr.trim() || valid.stdout.trim()}`,
        );
      const ran = await run(steps.run);
      if (ran.code !== 0)
        throw new EnvironmentError(`nomad job run failed:\n${ran.stderr.trim() || ran.stdout.trim()}`);
      submitted = true;
      const url = await coordinatorUrl(interrupted);
      if (!url) return await stop();
      // How each instance task ends is its outcome when it reported none.
      const { hostname, port } = new URL(url);
      exitWatch = await watchExits(plan, { host: hostname, port: Number(port) }, async () => {
        const allocs = await run(steps.allocs);
        if (allocs.code !== 0) return [];
        return (JSON.parse(allocs.stdout) as AllocInfo[]).flatMap((a) => {
          const instance = allocInstance(a);
          const exit = allocExit(a);
          const log = async () => (await run(steps.tail(a.ID))).stdout + (await run(steps.tail(a.ID, true))).stdout;
          return instance && exit ? [{ instance, exit, log }] : [];
        });
      });
      const results = await followCoordinator(url, o, {
        interrupted,
        what: `nomad alloc logs -job ${job} coordinator`,
      });
      exitWatch.close();
      if (!results) return await stop();
      const exits = await collect();
      await teardown();
      return finishRun(o, {
        target: 'nomad',
        backend: plan.network.shaping === 'off' ? 'off' : 'kernel',
        startedAt,
        results,
        exits,
        interrupted: interrupted(),
      });
    },
  );

  /** The coordinator's address from the service catalogue, once registered (5 minutes at most). */
  async function coordinatorUrl(interrupted: () => boolean): Promise<string | undefined> {
    const deadline = Date.now() + 5 * 60_000;
    while (Date.now() < deadline) {
      if (interrupted()) return undefined;
      const info = await run(steps.service);
      if (info.code === 0) {
        const list = JSON.parse(info.stdout) as { Address?: string; Port?: number }[];
        const s = list.find((x) => x.Address && x.Port);
        if (s) return `http://${s.Address}:${s.Port}`;
      }
      await sleep(1000);
    }
    throw new EnvironmentError(
      `the coordinator never registered as service ${steps.service.at(-1)}; see nomad job status ${job}`,
    );
  }

  /** Each instance allocation's log and exit code, named `<group>-<index>` from `job.group[index]`. */
  async function collect(): Promise<Map<string, number | null>> {
    const exits = new Map<string, number | null>();
    const allocs = await run(steps.allocs);
    if (allocs.code !== 0) return exits;
    const list = JSON.parse(allocs.stdout) as AllocInfo[];
    await Promise.all(
      list.map(async (a) => {
        const name = allocInstance(a);
        if (name === undefined) return;
        const out = await run(steps.stdout(a.ID));
        const err = await run(steps.stderr(a.ID));
        writeFileSync(join(o.outDir, 'logs', `${name}.log`), out.stdout + err.stdout);
        const terminated = a.TaskStates?.instance?.Events?.filter((e) => e.Type === 'Terminated').pop();
        exits.set(name, terminated?.ExitCode ?? null);
      }),
    );
    return exits;
  }
}
