import type { Code } from '../compiler/codes.js';
import type { Plan } from '../schema/ir.js';

/** Every target `tgc run` knows; `tgc compile` takes the ones that render a deployment. */
export type TargetName = 'local' | 'compose' | 'swarm' | 'k8s' | 'nomad';
export type ContainerTargetName = Exclude<TargetName, 'local'>;

/** The runtime a deployment embeds: the coordinator and the shaping agent, each one self-contained ES module. */
export interface RuntimeBundle {
  readonly coordinator: string;
  readonly agent: string;
  /** `tgc sync` alone, for the instances' containers. */
  readonly sync: string;
}

export interface RenderOptions {
  readonly runtime: RuntimeBundle;
  /** Overrides the plan's `run.runtime_image`. */
  readonly runtimeImage?: string;
  /**
   * compose: the backend the deployment uses. `auto` plans get `userspace` (it works on every
   * kernel) unless the caller resolved it otherwise (`tgc run` probes the host).
   */
  readonly shaping?: 'kernel' | 'userspace';
  /** k8s, nomad: the run id in labels and names (`tgc run` sets it). @default the plan name */
  readonly runId?: string;
  /** compose: the plan's directory as seen from the output directory, for `build.context`. @default "." */
  readonly planDir?: string;
  /**
   * compose: per group, its generated Dockerfile (`build/<group>/Dockerfile` in the output
   * directory) as seen from its build context, which only the caller can know when the context
   * lies outside the output directory. @default computed as if both were inside it
   */
  readonly dockerfileFromContext?: Readonly<Record<string, string>>;
}

/** Something in the plan the target cannot express: reported at its place in the plan, as a diagnostic. */
export interface TargetProblem {
  /** JSON Pointer into the composition. */
  readonly pointer: string;
  readonly code: Code;
  readonly message: string;
}

/** What a driver prints to. */
export interface DriverIo {
  readonly stdout: (t: string) => void;
  readonly stderr: (t: string) => void;
  /** stderr is a terminal and --json is off: the progress line is rewritten in place. */
  readonly tty: boolean;
}

/** What `tgc run` hands every target: the plan, the run's identity and directory, the caller's world. */
export interface RunOptions {
  readonly plan: Plan;
  /** The plan file as given (for messages and the dry-run's `tgc compile` line). */
  readonly planFile: string;
  readonly version: string;
  readonly runId: string;
  /** The run directory (not created yet; empty or missing). */
  readonly outDir: string;
  /** Where instance commands run (local) and relative paths resolve. */
  readonly cwd: string;
  /** The caller's environment: local instances inherit PATH, HOME, LANG, NODE_OPTIONS from it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isRoot: boolean;
  /** Print only the final results JSON. */
  readonly json: boolean;
  readonly io: DriverIo;
  /** Aborted on Ctrl-C: the driver tears everything down and returns 130. */
  readonly signal: AbortSignal;
  /** local: plain processes on loopback, no namespaces, no shaping (`--no-shaping`). */
  readonly loopback?: boolean;
  /** local: this tgc runs inside the namespaces of a rootless run (targets/local/rootless.ts). */
  readonly userns?: boolean;
  /** Container targets: the runtime image instead of the plan's `run.runtime_image`. */
  readonly runtimeImage?: string;
  /** k8s: an existing namespace to run in (else one is created per run and deleted after). */
  readonly namespace?: string;
  /** k8s: the kubeconfig context (else the current one). */
  readonly context?: string;
  /** swarm: each node's Docker engine by hostname (`--node-host NAME=URL`), to load images and act on tasks. */
  readonly nodeHosts?: Readonly<Record<string, string>>;
  /** local: the native wire polls instead of sleeping (`--busy-poll`): less latency, one core busy. */
  readonly busyPoll?: boolean;
}

/**
 * A target: what it cannot express, its deployment's files, the commands a run issues and the
 * run itself. Registered in `registry.ts`. `check` and `render` are pure; only the CLI and the
 * drivers touch files and processes.
 */
export interface Target {
  readonly name: TargetName;
  check(plan: Plan): TargetProblem[];
  /** The deployment's files by path relative to the output directory, in a stable order (not local). */
  render?(plan: Plan, options: RenderOptions): ReadonlyMap<string, string>;
  /** Every command `run` would issue, in order: what `--dry-run` prints. */
  steps(o: RunOptions): string[];
  /** What this machine lacks for `run`, with the fix (exit 3), checked before anything starts. */
  environment(o: RunOptions): string | undefined;
  /** Runs the plan to its end; resolves to the exit code. Throws `EnvironmentError` for exit 3. */
  run(o: RunOptions): Promise<number>;
}

/**
 * The first line of every generated file (SPEC §4), without its comment marker. It names the
 * plan, not its file, so the TOML and YAML spellings of one plan compile to the same bytes.
 */
export function generatedHeader(plan: Plan): string {
  return `Code generated by tgc from plan "${plan.name}"; DO NOT EDIT.`;
}

/**
 * Every container target needs an image per group, or a build that makes one (tgc builds it
 * before the run; the cluster targets also need it pushed: `--push`).
 */
export function containerProblems(plan: Plan, target: ContainerTargetName): TargetProblem[] {
  const out: TargetProblem[] = [];
  plan.groups.forEach((g, i) => {
    if (!g.image && !g.build) {
      out.push({
        pointer: `/groups/${i}/image`,
        code: 'NO_IMAGE',
        message:
          `group "${g.id}" has no image, which the ${target} target needs: set image (here or in ` +
          `[defaults]) or build`,
      });
    }
  });
  // Process actions need the container runtime's hand: compose has it (docker kill, pause…);
  // on clusters tgc's driver does not reach into pods or allocations (docs/composition.md, Events).
  plan.events?.forEach((e, i) => {
    if (target === 'compose' || target === 'swarm' || ['partition', 'heal', 'link'].includes(e.action.kind)) return;
    out.push({
      pointer: `/events/${i}/${e.action.kind}`,
      code: 'TARGET_UNSUPPORTED',
      message:
        `event "${e.name}" would ${e.action.kind} a process, which the ${target} target cannot do (its driver ` +
        `does not reach into ${target === 'k8s' ? 'pods' : 'allocations'}); partitions, heals and link changes ` +
        `work here: run this plan on the local or compose target`,
    });
  });
  if ((target === 'k8s' || target === 'nomad') && plan.network.shaping === 'userspace') {
    out.push({
      pointer: '/network/shaping',
      code: 'TARGET_UNSUPPORTED',
      message:
        `the ${target} target shapes with the kernel backend (tc in each pod or allocation); the userspace ` +
        `backend runs on the local, compose and swarm targets only: use shaping = "auto" or "kernel"`,
    });
  }
  return out;
}

/** The coordinator's port inside every deployment. */
export const COORDINATOR_PORT = 5050;

/** The compile half of a container target. */
export type Renderer = Required<Pick<Target, 'name' | 'check' | 'render'>>;
