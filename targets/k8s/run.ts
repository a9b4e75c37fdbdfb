import { execa } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../driver/environment-error.js';
import { exec } from '../driver/exec.js';
import { finishRun, startBanner } from '../driver/finish-run.js';
import { followCoordinator } from '../driver/follow-coordinator.js';
import { guarded } from '../driver/guarded.js';
import { loadRuntimeBundle } from '../runtime-bundle.js';
import type { RunOptions } from '../target.js';
import { classification } from '../../model/egress-plan.js';
import { writeOutput } from '../output-dir.js';
import { k8sSteps } from './steps.js';
import { podExit, podInstance, type PodInfo } from './pod-exits.js';
import { watchExits } from '../driver/exit-sink.js';
import { k8sNames, k8sRenderer } from './render.js';

/**
 * `tgc run --target k8s`: the steps `k8sCommands` lists, run — a namespace per run (unless
 * given), apply, wait for the coordinator, follow it through `kubectl port-forward`, collect
 * the instances' logs and exit codes, delete what was created (also on failure and Ctrl-C).
 */
export async function runK8s(o: RunOptions): Promise<number> {
  const { plan, io } = o;
  const steps = k8sSteps(plan, o);
  const { ns, manifest } = steps;
  const run = (argv: readonly string[]) => exec(argv[0]!, argv.slice(1));
  if ((await run(steps.version)).code !== 0)
    throw new EnvironmentError(
      'kubectl does not run (kubectl version --client failed): reinstall it (https://kubernetes.io/docs/tasks/tools/)',
    );
  const current = await run(steps.context);
  if (current.code !== 0)
    throw new EnvironmentError(
      `kubectl has no usable context (${current.stderr.trim()}): point it at a cluster (kubectl config ` +
        `use-context NAME) or pass --context`,
    );
  if (o.namespace) {
    const got = await run(steps.getNamespace);
    if (got.code !== 0)
      throw new EnvironmentError(
        `namespace ${ns} cannot be read (${got.stderr.trim()}): create it, or leave out --namespace for one made ` +
          `per run`,
      );
  } else {
    const created = await run(steps.createNamespace);
    if (created.code !== 0)
      throw new EnvironmentError(
        `cannot create namespace ${ns} (${created.stderr.trim()}): ask for the right to, or pass --namespace with ` +
          `one you may use`,
      );
    await run(steps.labelNamespace);
  }
  const say = (line: string) => !o.json && io.stderr(line + '\n');
  startBanner(
    o,
    `k8s (${o.context ?? current.stdout.trim()}, namespace ${ns})`,
    plan.network.shaping === 'off'
      ? 'off'
      : `kernel, classified by ${classification(plan, 'k8s') === 'mark' ? "the sender's mark" : 'address'}`,
  );
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  writeOutput(
    dirname(manifest),
    k8sRenderer.render(plan, {
      runtime: loadRuntimeBundle(),
      runId: o.runId,
      ...(o.runtimeImage && { runtimeImage: o.runtimeImage }),
    }),
  );
  let forward: ReturnType<typeof portForward> | undefined;
  let exitWatch: { close(): void } | undefined;
  const startedAt = new Date();
  const teardown = async () => {
    exitWatch?.close();
    forward?.kill('SIGTERM');
    const r = await run(steps.remove);
    if (r.code !== 0)
      io.stderr(`tgc: cleaning up failed (${r.stderr.trim()}); remove it with: ${steps.remove.join(' ')}\n`);
  };
  return guarded(
    { signal: o.signal, say, collect, teardown, stopping: 'deleting what the run created' },
    async ({ interrupted, stop }) => {
      const applied = await run(steps.apply);
      if (applied.code !== 0) throw new EnvironmentError(`kubectl apply failed:\n${applied.stderr.trim()}`);
      const ready = await run(steps.waitCoordinator);
      if (interrupted()) return await stop();
      if (ready.code !== 0)
        throw new EnvironmentError(
          `the coordinator did not become ready (${ready.stderr.trim()}); see kubectl -n ${ns} describe pods`,
        );
      forward = portForward(steps.portForward);
      const port = await new Promise<number>((resolve, reject) => {
        let text = '';
        forward!.stdout!.on('data', (d: Buffer) => {
          text += d.toString();
          const m = /127\.0\.0\.1:([0-9]+)/.exec(text);
          if (m) resolve(Number(m[1]));
        });
        forward!.once('exit', () => reject(new EnvironmentError('kubectl port-forward to the coordinator exited')));
      });
      // How each instance container ends is its outcome when it reported none.
      exitWatch = await watchExits(plan, { host: '127.0.0.1', port }, async () => {
        const pods = await run(steps.pods);
        if (pods.code !== 0) return [];
        return (JSON.parse(pods.stdout) as { items: PodInfo[] }).items.flatMap((pod) => {
          const instance = podInstance(pod);
          const exit = podExit(pod);
          const log = async () => {
            const r = await run(steps.podLog(pod.metadata.name));
            return r.stdout + r.stderr;
          };
          return instance && exit ? [{ instance, exit, log }] : [];
        });
      });
      const results = await followCoordinator(`http://127.0.0.1:${port}`, o, {
        interrupted,
        what: `kubectl -n ${ns} logs job/${k8sNames(plan).coordinator}`,
      });
      exitWatch.close();
      if (!results) return await stop();
      const exits = await collect();
      await teardown();
      return finishRun(o, {
        target: 'k8s',
        backend: plan.network.shaping === 'off' ? 'off' : 'kernel',
        startedAt,
        results,
        exits,
        interrupted: interrupted(),
      });
    },
  );

  /**
   * Each instance pod's exit code and log, named `<group>-<completion index>`: the pods once,
   * then one `kubectl logs --prefix` per group, split by pod.
   */
  async function collect(): Promise<Map<string, number | null>> {
    const exits = new Map<string, number | null>();
    const pods = await run(steps.pods);
    if (pods.code !== 0) return exits;
    const instanceOf = new Map<string, string>();
    for (const pod of (JSON.parse(pods.stdout) as { items: PodInfo[] }).items) {
      const name = podInstance(pod);
      if (!name) continue;
      instanceOf.set(pod.metadata.name, name);
      const t = pod.status?.containerStatuses?.find((c) => c.name === 'instance')?.state?.terminated;
      exits.set(name, t?.exitCode ?? null);
    }
    const logs = new Map<string, string[]>();
    for (const g of plan.groups) {
      const out = await run(steps.logs(g.id, g.instances));
      for (const line of out.stdout.split('\n')) {
        const m = /^\[pod\/([^/\]]+)\/instance\] ?(.*)$/.exec(line);
        const name = m && instanceOf.get(m[1]!);
        if (name) (logs.get(name) ?? logs.set(name, []).get(name)!).push(m[2]!);
      }
    }
    for (const name of instanceOf.values())
      writeFileSync(join(o.outDir, 'logs', `${name}.log`), (logs.get(name) ?? []).map((l) => l + '\n').join(''));
    return exits;
  }
}

/** `kubectl port-forward`, kept running: its stdout says the local port. */
function portForward(argv: readonly string[]) {
  return execa(argv[0]!, argv.slice(1), { stdin: 'ignore', buffer: false, reject: false });
}
