import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIo } from '../main.js';
import type { Plan } from '../../schema/ir.js';
import { EnvironmentError } from '../../targets/local/network.js';
import { localDryRun, runLocal } from '../../targets/local/run.js';
import { nativeWireBinary } from '../../targets/local/native-wire.js';
import { loadRuntimeBundle } from '../../targets/runtime-bundle.js';
import { containerProblems } from '../../targets/target.js';

export interface RunCommandOptions {
  readonly target: string;
  readonly dryRun?: boolean;
  readonly out?: string;
  readonly json?: boolean;
  /** Plain processes on loopback: no namespaces, no root, no shaping. */
  readonly shaping?: boolean;
  readonly version: string;
  /** The plan file as given (for headers and messages). */
  readonly planFile: string;
  readonly runtimeImage?: string;
  /** k8s: an existing namespace to run in (else one is created per run and deleted after). */
  readonly namespace?: string;
  /** k8s: the kubeconfig context (else the current one). */
  readonly context?: string;
}

/** A run id that sorts by time and is unique: `20261125-015200-3fa9c1`. */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

/** `tgc run`: checks the environment, then hands over to the target's driver. Resolves to the exit code. */
export async function runCommand(plan: Plan, o: RunCommandOptions, io: CliIo): Promise<number> {
  if (o.target === 'compose' || o.target === 'k8s' || o.target === 'nomad')
    return runContainerCommand(plan, o.target, o, io);
  // What this target cannot express is a problem with the plan: exit 2, before anything runs.
  const noCommand = plan.groups.filter((g) => !g.command).map((g) => g.id);
  if (noCommand.length > 0) {
    io.stderr(
      `tgc: the local target runs commands, and group${noCommand.length === 1 ? '' : 's'} ${noCommand.map((g) => `"${g}"`).join(', ')} ha${noCommand.length === 1 ? 's' : 've'} none: set command (image and build are for the container targets)\n`,
    );
    return 2;
  }
  const runId = newRunId();
  const cwd = io.cwd ?? '.';
  if (o.dryRun) {
    io.stdout(localDryRun(plan, runId, cwd, o.shaping === false).join('\n') + '\n');
    return 0;
  }
  const outDir = runDirectory(o, runId, io);
  if (!outDir) return 2;
  const loopback = o.shaping === false;
  // socat carries the TUN devices' packets only where the native wire was not built.
  const missing = ['ip', ...(nativeWireBinary() ? [] : ['socat'])].filter((tool) => {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (!loopback && !io.isRoot) {
    io.stderr(
      'tgc: the local target runs each instance in its own network namespace, which needs root here: run tgc with sudo (unprivileged user namespaces are not supported yet), or pass --no-shaping to run plain processes on loopback, unshaped\n',
    );
    return 3;
  }
  if (!loopback && (missing.length > 0 || !existsSync('/dev/net/tun'))) {
    io.stderr(
      `tgc: the local target needs ${[...missing, ...(existsSync('/dev/net/tun') ? [] : ['/dev/net/tun'])].join(', ')}: apt-get install iproute2 socat\n`,
    );
    return 3;
  }
  try {
    return await runLocal({
      plan,
      version: o.version,
      outDir,
      runId,
      cwd,
      baseEnv: { PATH: io.env?.PATH, HOME: io.env?.HOME, LANG: io.env?.LANG, NODE_OPTIONS: io.env?.NODE_OPTIONS },
      json: o.json === true,
      loopback,
      io: {
        stdout: io.stdout,
        stderr: io.stderr,
        tty: io.tty === true && o.json !== true,
        ...(io.env && { env: io.env }),
      },
      signal: io.signal ?? new AbortController().signal,
    });
  } catch (err) {
    // Nothing ran: leave no run directory behind (it did not exist, or was empty, before).
    if (!existsSync(join(outDir, 'results.json'))) rmSync(outDir, { recursive: true, force: true });
    if (err instanceof EnvironmentError) {
      io.stderr(`tgc: ${err.message}\n`);
      return 3;
    }
    throw err;
  }
}

/** The run directory: `--out`, or `.tgc/runs/<run id>`; refused when it holds anything already. */
function runDirectory(o: RunCommandOptions, runId: string, io: CliIo): string | undefined {
  const outDir = o.out ?? join(io.cwd ?? '.', '.tgc', 'runs', runId);
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    io.stderr(`tgc: ${outDir} already exists and is not empty; give --out a new directory (nothing was run)\n`);
    return undefined;
  }
  return outDir;
}

function onPath(tool: string): boolean {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The container targets: the plan's problems (exit 2), `--dry-run`, the environment (exit 3), then the target's driver. */
async function runContainerCommand(
  plan: Plan,
  target: 'compose' | 'k8s' | 'nomad',
  o: RunCommandOptions,
  io: CliIo,
): Promise<number> {
  const problems = containerProblems(plan, target);
  if (problems.length > 0) {
    for (const p of problems) io.stderr(`tgc: ${p.message}\n`);
    return 2;
  }
  const runId = newRunId();
  const outDir = runDirectory(o, runId, io);
  if (!outDir) return 2;
  if (o.dryRun) {
    const { k8sCommands, nomadCommands } = await import('../../targets/cluster-commands.js');
    const { composeDryRun } = await import('../../targets/compose/run.js');
    const options = {
      runId,
      outDir,
      planFile: o.planFile,
      ...(o.namespace !== undefined && { namespace: o.namespace }),
      ...(o.context !== undefined && { context: o.context }),
    };
    const lines =
      target === 'compose'
        ? composeDryRun(plan, o.planFile, runId, outDir, o.runtimeImage ?? plan.runtimeImage)
        : target === 'k8s'
          ? k8sCommands(plan, options)
          : nomadCommands(plan, options);
    io.stdout(lines.join('\n') + '\n');
    return 0;
  }
  if (target === 'k8s' && !onPath('kubectl')) {
    io.stderr(
      'tgc: the k8s target drives kubectl, which is not on PATH: install it (https://kubernetes.io/docs/tasks/tools/) and point it at a cluster (kubectl config use-context …); tgc compile --target k8s writes the manifests without it\n',
    );
    return 3;
  }
  if (target === 'nomad' && !onPath('nomad')) {
    io.stderr(
      'tgc: the nomad target drives the nomad CLI, which is not on PATH: install it (https://developer.hashicorp.com/nomad/install) and set NOMAD_ADDR; tgc compile --target nomad writes the job without it\n',
    );
    return 3;
  }
  if (target === 'nomad' && !io.env?.NOMAD_ADDR) {
    io.stderr(
      'tgc: NOMAD_ADDR is not set: export NOMAD_ADDR=http://<a Nomad server>:4646 (and NOMAD_TOKEN if ACLs are on)\n',
    );
    return 3;
  }
  const common = {
    plan,
    planFile: o.planFile,
    version: o.version,
    runId,
    outDir,
    runtime: loadRuntimeBundle(),
    ...(o.runtimeImage !== undefined && { runtimeImage: o.runtimeImage }),
    json: o.json === true,
    io: { stdout: io.stdout, stderr: io.stderr, tty: io.tty === true && o.json !== true },
    signal: io.signal ?? new AbortController().signal,
  };
  const { DriverEnvironmentError } = await import('../../targets/driver/follow-run.js');
  try {
    if (target === 'compose') return await (await import('../../targets/compose/run.js')).runCompose(common);
    if (target === 'k8s')
      return await (
        await import('../../targets/k8s/run.js')
      ).runK8s({
        ...common,
        ...(o.namespace !== undefined && { namespace: o.namespace }),
        ...(o.context !== undefined && { context: o.context }),
      });
    return await (await import('../../targets/nomad/run.js')).runNomad(common);
  } catch (err) {
    // Nothing ran to its end: leave no run directory behind.
    if (!existsSync(join(outDir, 'results.json'))) rmSync(outDir, { recursive: true, force: true });
    if (err instanceof DriverEnvironmentError) {
      io.stderr(`tgc: ${err.message}\n`);
      return 3;
    }
    throw err;
  }
}
