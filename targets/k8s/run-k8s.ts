import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DriverEnvironmentError, exec, finishRun, followCoordinator, guarded, type DriverOptions } from '../follow-run.js';
import { writeOutput } from '../output-dir.js';
import { COORDINATOR_PORT } from '../target.js';
import { k8sNames, k8sTarget } from './render-k8s.js';

export interface K8sRunOptions extends DriverOptions {
  readonly namespace?: string;
  readonly context?: string;
}

interface PodInfo {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly status?: { readonly containerStatuses?: readonly { readonly name: string; readonly state?: { readonly terminated?: { readonly exitCode: number } } }[] };
}

/**
 * `tgc run --target k8s`: the steps `k8sCommands` lists, run — a namespace per run (unless
 * given), apply, wait for the coordinator, follow it through `kubectl port-forward`, collect
 * the instances' logs and exit codes, delete what was created (also on failure and Ctrl-C).
 */
export async function runK8s(o: K8sRunOptions): Promise<number> {
  const { plan, io } = o;
  const ctx = o.context ? ['--context', o.context] : [];
  const kubectl = (args: readonly string[]) => exec('kubectl', [...ctx, ...args]);
  const current = await kubectl(['config', 'current-context']);
  if (current.code !== 0) throw new DriverEnvironmentError(`kubectl has no usable context (${current.stderr.trim()}): point it at a cluster (kubectl config use-context NAME) or pass --context`);
  const ns = o.namespace ?? `tgc-${o.runId}`;
  if (o.namespace) {
    const got = await kubectl(['get', 'namespace', ns]);
    if (got.code !== 0) throw new DriverEnvironmentError(`namespace ${ns} cannot be read (${got.stderr.trim()}): create it, or leave out --namespace for one made per run`);
  } else {
    const created = await kubectl(['create', 'namespace', ns]);
    if (created.code !== 0) throw new DriverEnvironmentError(`cannot create namespace ${ns} (${created.stderr.trim()}): ask for the right to, or pass --namespace with one you may use`);
    await kubectl(['label', 'namespace', ns, 'app.kubernetes.io/managed-by=tgc', `app.kubernetes.io/instance=${o.runId}`]);
  }
  const say = (line: string) => !o.json && io.stderr(line + '\n');
  say(`tgc: run ${o.runId} · plan ${plan.name} · ${plan.totalInstances} instance${plan.totalInstances === 1 ? '' : 's'} · target k8s (${o.context ?? current.stdout.trim()}, namespace ${ns}) · shaping ${plan.network.shaping === 'off' ? 'off' : 'kernel'}`);
  const deploy = join(o.outDir, 'deploy');
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  writeOutput(deploy, k8sTarget.render(plan, { runtime: o.runtime, runId: o.runId, ...(o.runtimeImage && { runtimeImage: o.runtimeImage }) }));
  const manifest = join(deploy, 'tgc.yaml');
  const selector = `app.kubernetes.io/instance=${o.runId}`;
  let forward: ChildProcess | undefined;
  const startedAt = new Date();
  const t0 = Date.now();
  const teardown = async () => {
    forward?.kill('SIGTERM');
    const r = o.namespace ? await kubectl(['-n', ns, 'delete', '-f', manifest, '--wait=true', '--ignore-not-found']) : await kubectl(['delete', 'namespace', ns, '--wait=true']);
    if (r.code !== 0) io.stderr(`tgc: cleaning up failed (${r.stderr.trim()}); remove it with: kubectl ${o.namespace ? `-n ${ns} delete -f ${manifest}` : `delete namespace ${ns}`}\n`);
  };
  return guarded({ signal: o.signal, say, collect, teardown, stopping: 'deleting what the run created' }, async ({ interrupted, stop }) => {
    const applied = await kubectl(['-n', ns, 'apply', '-f', manifest]);
    if (applied.code !== 0) throw new DriverEnvironmentError(`kubectl apply failed:\n${applied.stderr.trim()}`);
    const ready = await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'pod', '-l', `${selector},app.kubernetes.io/component=coordinator`, '--timeout=5m']);
    if (interrupted()) return await stop();
    if (ready.code !== 0) throw new DriverEnvironmentError(`the coordinator did not become ready (${ready.stderr.trim()}); see kubectl -n ${ns} describe pods`);
    forward = spawn('kubectl', [...ctx, '-n', ns, 'port-forward', `service/${k8sNames(plan).coordinator}`, `:${COORDINATOR_PORT}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      forward!.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /127\.0\.0\.1:([0-9]+)/.exec(text);
        if (m) resolve(Number(m[1]));
      });
      forward!.once('exit', () => reject(new DriverEnvironmentError('kubectl port-forward to the coordinator exited')));
    });
    const results = await followCoordinator(`http://127.0.0.1:${port}`, { plan, io, json: o.json, interrupted, what: `kubectl -n ${ns} logs job/${k8sNames(plan).coordinator}` });
    if (!results) return await stop();
    const exits = await collect();
    await teardown();
    return finishRun({ plan, version: o.version, target: 'k8s', backend: plan.network.shaping === 'off' ? 'off' : 'kernel', outDir: o.outDir, startedAt, durationMs: Date.now() - t0, results, exits, json: o.json, io, interrupted: interrupted() });
  });

  /** Each instance pod's log and exit code, named `<group>-<completion index>`. */
  async function collect(): Promise<Map<string, number | null>> {
    const exits = new Map<string, number | null>();
    const pods = await kubectl(['-n', ns, 'get', 'pods', '-l', `${selector},app.kubernetes.io/component=instance`, '-o', 'json']);
    if (pods.code !== 0) return exits;
    const items = (JSON.parse(pods.stdout) as { items: PodInfo[] }).items;
    await Promise.all(
      items.map(async (pod) => {
        const group = pod.metadata.labels?.['tgc.dev/group'];
        const index = pod.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
        if (!group || index === undefined) return;
        const name = `${group}-${index}`;
        const log = await kubectl(['-n', ns, 'logs', pod.metadata.name, '-c', 'instance']);
        writeFileSync(join(o.outDir, 'logs', `${name}.log`), log.stdout + log.stderr);
        const code = pod.status?.containerStatuses?.find((c) => c.name === 'instance')?.state?.terminated?.exitCode;
        exits.set(name, code ?? null);
      }),
    );
    return exits;
  }
}
