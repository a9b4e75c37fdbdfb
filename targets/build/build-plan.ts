import type { Plan } from '../../schema/ir.js';
import { EnvironmentError } from '../driver/environment-error.js';
import type { TargetName } from '../target.js';
import { GENERATED_DOCKERFILE, groupsToBuild, planBuilds, type BuildJob } from './plan-builds.js';
import { dockerBuildArgs, programPath, pushedRef, runBuilds, type Built } from './run-builds.js';

export interface BuildPlanOptions {
  readonly target: TargetName;
  readonly planFile: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `--group`: only these. */
  readonly groups?: readonly string[];
  readonly noCache?: boolean;
  /** `--push REGISTRY`. */
  readonly push?: string;
  readonly stderr: (text: string) => void;
  readonly signal?: AbortSignal;
  /** `--dry-run`: nothing is built; without Docker the tags are worked out without it. */
  readonly dryRun?: boolean;
}

/** The builds of a plan for a target: what they are, and the plan as it runs once they are done. */
export interface PlannedBuilds {
  readonly jobs: readonly BuildJob[];
  /** Every command the builds issue, for `--dry-run`. */
  readonly steps: readonly string[];
  /** The plan as it will run, with the images and programs the builds make (for `--dry-run`). */
  readonly planned: Plan;
  /** Runs them; resolves to what each group got and the plan that runs it (builds replaced). */
  run(): Promise<{ built: Built[]; plan: Plan }>;
}

/**
 * The build step of `tgc run`, `tgc build` and `tgc compile --push`: on the local target Go
 * programs (go build), on the container targets images (docker build); a cluster target pulls
 * from a registry, so images built for it need `push`. Throws EnvironmentError (exit 3).
 */
export async function planPlanBuilds(plan: Plan, o: BuildPlanOptions): Promise<PlannedBuilds> {
  const output = o.target === 'local' ? 'program' : 'image';
  const images =
    output === 'image' ? groupsToBuild(plan, 'image').filter((g) => !o.groups || o.groups.includes(g.id)) : [];
  if ((o.target === 'k8s' || o.target === 'nomad') && images.length > 0 && !o.push) {
    throw new EnvironmentError(
      `group "${images[0]!.id}" is built by tgc, and a ${o.target} cluster pulls its images from a registry: ` +
        `give one with --push REGISTRY (tgc pushes what it builds there and the manifests name it), or build and ` +
        `push the image yourself and pass --image ${images[0]!.id}=IMAGE`,
    );
  }
  const { jobs, unreachable } = await planBuilds(plan, {
    planFile: o.planFile,
    cwd: o.cwd,
    output,
    env: o.env,
    ...(o.groups && { groups: o.groups }),
    ...(o.dryRun && { dryRun: true }),
  });
  const caveat = unreachable
    ? [`# Docker is not reachable: the tags below leave out the base images' ids, which a real run hashes`]
    : [];
  const steps = caveat.concat(
    jobs.flatMap((job) => {
      if (job.output === 'program') {
        return [
          `go build -o ${programPath(o.cwd, job)} ${job.build.go!.execPkg}  # ${job.groups.join(', ')}, in ` +
            `${job.context.dir}/${job.build.go!.path}; skipped when the program is there`,
        ];
      }
      const how =
        job.dockerfilePath === GENERATED_DOCKERFILE ? `the generated ${job.build.kind} Dockerfile` : job.dockerfilePath;
      return [
        `docker ${dockerBuildArgs(job, { env: o.env, plan: plan.name }).join(' ')}  # ${job.groups.join(', ')}: ` +
          `${job.context.dir} as a tar on stdin, ${how}; skipped when ${job.tag} exists`,
        ...(o.push
          ? [`docker tag ${job.tag} ${pushedRef(o.push, job.tag!)}`, `docker push ${pushedRef(o.push, job.tag!)}`]
          : []),
      ];
    }),
  );
  const planned: Built[] = jobs.flatMap((job) =>
    job.groups.map((group) =>
      job.output === 'program'
        ? { group, program: programPath(o.cwd, job), cached: false }
        : { group, image: o.push ? pushedRef(o.push, job.tag!) : job.tag!, cached: false },
    ),
  );
  return {
    jobs,
    steps,
    planned: withBuilt(plan, planned),
    async run() {
      const built = await runBuilds(jobs, {
        cwd: o.cwd,
        env: o.env,
        plan: plan.name,
        stderr: o.stderr,
        ...(o.noCache && { noCache: true }),
        ...(o.push !== undefined && { push: o.push }),
        ...(o.signal && { signal: o.signal }),
      });
      return { built, plan: withBuilt(plan, built) };
    },
  };
}

/** The plan with each built group running what its build made: an image, or a program as its command. */
export function withBuilt(plan: Plan, built: readonly Built[]): Plan {
  const byGroup = new Map(built.map((b) => [b.group, b]));
  return {
    ...plan,
    groups: plan.groups.map((g) => {
      const b = byGroup.get(g.id);
      if (!b) return g;
      const { build: _build, ...rest } = g;
      return b.program ? { ...rest, command: [b.program] } : { ...rest, image: b.image! };
    }),
  };
}
