import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import type { Build, Group, Plan } from '../../schema/ir.js';
import { exec } from '../driver/exec.js';
import { EnvironmentError } from '../driver/environment-error.js';
import { readBuildContext, type BuildContext } from './build-context.js';
import { generatedDockerfile } from './dockerfiles.js';

/**
 * What the build is made of changes when this does (the generated recipes, the hashing): a new
 * tgc then builds again instead of reusing an image made the old way.
 */
const RECIPE = 'tgc-build-1';

/** One distinct build (Testground's build key): every group it serves, and its inputs. */
export interface BuildJob {
  readonly groups: readonly string[];
  readonly build: Build;
  /** `image`: docker build; `program`: go build, for the local target. */
  readonly output: 'image' | 'program';
  readonly context: BuildContext;
  /** The Dockerfile as the build uses it (generated, or the context's own); undefined for programs. */
  readonly dockerfile: string | undefined;
  /** Its path inside the context. */
  readonly dockerfilePath: string;
  /** The hash of every input; the image's tag or the program's directory. */
  readonly key: string;
  /** image builds: `tgc-build-<plan>:<key>`. */
  readonly tag?: string;
}

export interface PlanBuildsOptions {
  /** The plan file: build contexts are relative to its directory. */
  readonly planFile: string;
  readonly cwd: string;
  /** Only these groups (`tgc build --group`); default: every group that builds. */
  readonly groups?: readonly string[];
  /** `image` on the container targets, `program` on the local one. */
  readonly output: 'image' | 'program';
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * `--dry-run`: without a Docker daemon, work the keys out without the base images' ids
   * (`unreachable` says so) instead of failing.
   */
  readonly dryRun?: boolean;
}

/** The name a generated Dockerfile takes at the root of the context tgc sends. */
export const GENERATED_DOCKERFILE = '.tgc-Dockerfile';

/** The groups that need building for this output: images (every build), programs (Go builds). */
export function groupsToBuild(plan: Plan, output: 'image' | 'program'): Group[] {
  return plan.groups.filter((g) => g.build && (output === 'image' || (g.build.kind === 'go' && !g.command)));
}

/**
 * Every distinct build of the plan with its inputs and key, computed without building: the
 * context's files (after .dockerignore), the Dockerfile, the build arguments and, for images,
 * the base images' ids on this Docker host (a base image not here yet goes in by name).
 */
export async function planBuilds(
  plan: Plan,
  o: PlanBuildsOptions,
): Promise<{ jobs: BuildJob[]; unreachable?: string }> {
  const wanted = groupsToBuild(plan, o.output).filter((g) => !o.groups || o.groups.includes(g.id));
  const planDir = dirname(resolve(o.cwd, o.planFile));
  const contexts = new Map<string, BuildContext>();
  const distinct = new Map<string, { groups: string[]; build: Build }>();
  for (const g of wanted) {
    const id = JSON.stringify(g.build);
    const seen = distinct.get(id);
    if (seen) seen.groups.push(g.id);
    else distinct.set(id, { groups: [g.id], build: g.build! });
  }
  const drafts = [...distinct.values()].map(({ groups, build }) => {
    const dir = resolve(planDir, build.context);
    const prefix = build.contextPrefix ?? '';
    const cacheId = `${dir}\0${prefix}`;
    let context = contexts.get(cacheId);
    if (!context) {
      try {
        context = readBuildContext(dir, prefix);
      } catch (err) {
        throw new EnvironmentError(
          `the build context of group "${groups[0]}" (${dir}) cannot be read: ${(err as Error).message}`,
        );
      }
      contexts.set(cacheId, context);
    }
    const generated = generatedDockerfile(build);
    const dockerfilePath = generated ? GENERATED_DOCKERFILE : posix.join(prefix, build.dockerfile ?? 'Dockerfile');
    let dockerfile = generated;
    if (o.output === 'image' && dockerfile === undefined) {
      const file = join(dir, build.dockerfile ?? 'Dockerfile');
      try {
        dockerfile = readFileSync(file, 'utf8');
      } catch {
        throw new EnvironmentError(`group "${groups[0]}" is built from ${file}, which does not exist`);
      }
    }
    checkGoModule(build, context, groups[0]!, dir, o.output);
    return { groups, build, context, dockerfile, dockerfilePath };
  });
  let bases: Record<string, string> = {};
  let unreachable: string | undefined;
  try {
    if (o.output === 'image')
      bases = await imageIds(
        drafts.flatMap((d) => baseImages(d.build, d.dockerfile ?? '')),
        o.env,
      );
  } catch (err) {
    if (!(err instanceof EnvironmentError) || !o.dryRun) throw err;
    unreachable = err.message;
  }
  const goVersion = o.output === 'program' && drafts.length > 0 ? await goEnvVersion(drafts[0]!.groups[0]!, o.env) : '';
  const jobs = drafts.map((d) => {
    const h = createHash('sha256').update(`${RECIPE}\0${o.output}\0${d.context.hash}\0`);
    h.update(JSON.stringify(d.build));
    h.update(`\0${d.dockerfile ?? ''}\0${goVersion}\0`);
    for (const b of baseImages(d.build, d.dockerfile ?? '')) h.update(`${b}=${bases[b] ?? ''}\0`);
    const key = h.digest('hex').slice(0, 16);
    return {
      ...d,
      output: o.output,
      key,
      ...(o.output === 'image' && { tag: `tgc-build-${plan.name}:${key}` }),
    };
  });
  return { jobs, ...(unreachable !== undefined && { unreachable }) };
}

/** A Go build needs its go.mod (or modfile) in the context, unless it makes a fresh one. */
function checkGoModule(build: Build, context: BuildContext, group: string, dir: string, output: string): void {
  const go = build.go;
  if (build.kind !== 'go' || !go || go.freshModule) return;
  const mod = go.modfile ?? posix.join(go.path, 'go.mod');
  if (!context.entries.some((e) => e.path === mod && e.type === 'file')) {
    throw new EnvironmentError(
      `group "${group}" is a Go ${output === 'image' ? 'image' : 'program'} and ${join(dir, mod)} does not ` +
        `exist${output === 'image' ? ' in its build context (or .dockerignore leaves it out)' : ''}: create it ` +
        `(go mod init), point build.path${output === 'image' ? ' or build.modfile' : ''} at it, or set ` +
        'fresh_gomod and module_path',
    );
  }
}

/** The images a build starts from: the recipe's, or the FROM lines of the Dockerfile. */
export function baseImages(build: Build, dockerfile: string): string[] {
  if (build.kind === 'go') return [build.baseImage!, ...(build.go!.skipRuntimeImage ? [] : [build.go!.runtimeImage])];
  if (build.kind === 'node') return [build.baseImage!];
  // ARG defaults before the first FROM, then the build's own args, substituted into FROM lines.
  const args: Record<string, string> = {};
  const stages = new Set<string>();
  const out: string[] = [];
  for (const raw of dockerfile.split('\n')) {
    const line = raw.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?/i.exec(line);
    if (arg && out.length === 0 && stages.size === 0) args[arg[1]!] = (arg[2] ?? '').replace(/^"(.*)"$/, '$1');
    const from = /^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    const image = from[1]!.replace(
      /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
      (_, n: string) => build.args[n] ?? args[n] ?? '',
    );
    if (!stages.has(image) && image !== 'scratch') out.push(image);
    if (from[2]) stages.add(from[2]);
  }
  return out;
}

/** Image ids on this Docker host, by reference; references not here are left out. */
export async function imageIds(
  refs: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<Record<string, string>> {
  const unique = [...new Set(refs)];
  const found = await Promise.all(
    unique.map(async (ref) => {
      const r = await exec('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { env });
      if (r.code === 127) throw new EnvironmentError(dockerMissing('docker is not on PATH'));
      if (r.code !== 0 && /Cannot connect|daemon running|permission denied/i.test(r.stderr))
        throw new EnvironmentError(dockerMissing(r.stderr.trim().split('\n')[0]!));
      return [ref, r.code === 0 ? r.stdout.trim() : ''] as const;
    }),
  );
  return Object.fromEntries(found.filter(([, id]) => id));
}

export function dockerMissing(why: string): string {
  return (
    `building images needs a Docker daemon (${why}): install Docker (apt-get install docker.io) and start it ` +
    '(systemctl start docker, or dockerd), or give each group an image with --image GROUP=IMAGE'
  );
}

/** The Go toolchain's version (a new Go builds the programs again). */
async function goEnvVersion(group: string, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const r = await exec('go', ['env', 'GOVERSION'], { env });
  if (r.code === 127) {
    throw new EnvironmentError(
      `group "${group}" is built with go build, and go is not on PATH: apt-get install golang-go (or build the ` +
        'program yourself and set command; in a Testground composition, groups.run.artifact)',
    );
  }
  return r.stdout.trim();
}
