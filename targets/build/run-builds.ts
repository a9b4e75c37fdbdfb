import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { exec } from '../driver/exec.js';
import { EnvironmentError } from '../driver/environment-error.js';
import { contextTar } from './build-context.js';
import { GENERATED_DOCKERFILE, imageIds, type BuildJob } from './plan-builds.js';

export interface RunBuildsOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Build even what is cached (`--no-cache`). */
  readonly noCache?: boolean;
  /** Push every image to this registry (`--push`); the groups then use `REGISTRY/<tag>`. */
  readonly push?: string;
  /** Progress and the builders' output, prefixed by group. */
  readonly stderr: (text: string) => void;
  readonly signal?: AbortSignal;
  /** For the images' labels. */
  readonly plan: string;
}

/** What one group runs after the build: an image (tag and id) or a program. */
export interface Built {
  readonly group: string;
  readonly image?: string;
  readonly id?: string;
  readonly program?: string;
  readonly cached: boolean;
}

/** Where an image tagged `tag` goes in `registry` (`host[:port][/path]`, a trailing `/` or not). */
export function pushedRef(registry: string, tag: string): string {
  return `${registry.replace(/\/+$/, '')}/${tag}`;
}

/** The lines of a failed build that go into its error. */
const TAIL = 30;

/** A program's place: `.tgc/build/<key>/testplan`, beside the run directories. */
export function programPath(cwd: string, job: BuildJob): string {
  return resolve(cwd, '.tgc', 'build', job.key, 'testplan');
}

/**
 * Runs the builds one after another: an image or program whose key is already there is used
 * as it is (`build: <group> cached`), unless `noCache`; the rest are built, their output
 * streamed with the group's name in front. A failed build throws an EnvironmentError naming
 * the group, with the last 30 lines of its output (exit 3); nothing of it is left running.
 */
export async function runBuilds(jobs: readonly BuildJob[], o: RunBuildsOptions): Promise<Built[]> {
  const images = jobs.filter((j) => j.output === 'image');
  const have =
    images.length > 0 && !o.noCache
      ? await imageIds(
          images.map((j) => j.tag!),
          o.env,
        )
      : {};
  const out: Built[] = [];
  for (const job of jobs) {
    const name = job.groups.join(', ');
    const started = Date.now();
    if (job.output === 'program') {
      const program = programPath(o.cwd, job);
      const cached = !o.noCache && existsSync(program);
      if (cached) o.stderr(`build: ${name} cached (${program})\n`);
      else {
        o.stderr(`build: ${name}: go build → ${program}\n`);
        await goBuild(job, program, o);
        o.stderr(`build: ${name} built in ${seconds(started)}\n`);
      }
      out.push(...job.groups.map((group) => ({ group, program, cached })));
      continue;
    }
    const tag = job.tag!;
    let id = have[tag];
    const cached = id !== undefined;
    if (cached) o.stderr(`build: ${name} cached (${tag})\n`);
    else {
      o.stderr(`build: ${name}: docker build → ${tag}\n`);
      await dockerBuild(job, o);
      id = (await imageIds([tag], o.env))[tag];
      o.stderr(`build: ${name} built ${tag} (${shortId(id)}) in ${seconds(started)}\n`);
    }
    let image = tag;
    if (o.push) {
      image = pushedRef(o.push, tag);
      await pushImage(tag, image, job, o);
    }
    out.push(...job.groups.map((group) => ({ group, image, ...(id !== undefined && { id }), cached })));
  }
  return out;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function shortId(id: string | undefined): string {
  return (id ?? '').replace(/^sha256:/, '').slice(0, 12);
}

/** The `docker build` of one job, its context (with a generated Dockerfile) streamed on stdin. */
export function dockerBuildArgs(job: BuildJob, o: Pick<RunBuildsOptions, 'env' | 'plan'>): string[] {
  const args = [
    'build',
    '--force-rm',
    '--label',
    `dev.tgc.build=${job.key}`,
    '--label',
    `dev.tgc.plan=${o.plan}`,
    '-t',
    job.tag!,
    '-f',
    job.dockerfilePath,
  ];
  const buildArgs: Record<string, string> = { ...job.build.args };
  // A Go build without a proxy of its own takes the environment's (Testground's `local` mode).
  if (job.build.kind === 'go' && job.build.go?.proxy === undefined && o.env.GOPROXY) buildArgs.GO_PROXY = o.env.GOPROXY;
  for (const [k, v] of Object.entries(buildArgs).sort(([a], [b]) => (a < b ? -1 : 1)))
    args.push('--build-arg', `${k}=${v}`);
  return [...args, '-'];
}

async function dockerBuild(job: BuildJob, o: RunBuildsOptions): Promise<void> {
  const extra = job.dockerfile !== undefined && job.dockerfilePath === GENERATED_DOCKERFILE;
  const tar = contextTar(job.context, extra ? { [GENERATED_DOCKERFILE]: job.dockerfile! } : {});
  const r = await streamed('docker', dockerBuildArgs(job, o), job.groups[0]!, o, (stdin) => tar.pipe(stdin));
  if (r.code !== 0) {
    throw new EnvironmentError(
      `the build of group "${job.groups[0]}" failed (docker build, exit code ${r.code}); its last lines:\n` +
        r.tail.join('\n'),
    );
  }
}

async function pushImage(tag: string, ref: string, job: BuildJob, o: RunBuildsOptions): Promise<void> {
  const tagged = await exec('docker', ['tag', tag, ref], { env: o.env });
  if (tagged.code !== 0) throw new EnvironmentError(`docker tag ${tag} ${ref} failed: ${tagged.stderr.trim()}`);
  o.stderr(`build: ${job.groups.join(', ')}: docker push ${ref}\n`);
  const r = await streamed('docker', ['push', ref], job.groups[0]!, o);
  if (r.code !== 0) {
    throw new EnvironmentError(
      `the push of group "${job.groups[0]}"'s image to ${ref} failed (exit code ${r.code}); its last lines:\n` +
        `${r.tail.join('\n')}\n(a registry without TLS must be in the Docker daemon's insecure-registries)`,
    );
  }
}

/** `go build` of a Go program for the local target (Testground's exec:go), into `program`. */
async function goBuild(job: BuildJob, program: string, o: RunBuildsOptions): Promise<void> {
  const go = job.build.go!;
  const dir = join(job.context.dir, go.path);
  const workDir = resolve(program, '..');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const env = { ...o.env, CGO_ENABLED: go.cgo ? '1' : '0' };
  const fail = (what: string, tail: readonly string[], code: number) => {
    rmSync(workDir, { recursive: true, force: true });
    return new EnvironmentError(
      `the build of group "${job.groups[0]}" failed (${what}, exit code ${code}, in ${dir}); its last lines:\n` +
        tail.join('\n'),
    );
  };
  // The module file the build uses, kept beside the program: the plan's tree is never edited.
  // Written under another name first: only a whole program takes the cached name.
  const partial = `${program}.partial`;
  const args = ['build', '-o', partial, '-gcflags=all=-N -l'];
  if (go.modfile || go.replace.length > 0 || go.freshModule) {
    const modfile = join(workDir, 'go.mod');
    if (go.freshModule) writeFileSync(modfile, `module ${go.freshModule}\n`);
    else {
      const from = join(job.context.dir, go.modfile ?? posix.join(go.path, 'go.mod'));
      copyFileSync(from, modfile);
      const sum = from.replace(/\.mod$/, '.sum');
      if (existsSync(sum)) copyFileSync(sum, join(workDir, 'go.sum'));
    }
    const steps: string[][] = [
      ...(go.replace.length > 0
        ? [
            [
              'mod',
              'edit',
              ...go.replace.map((r) => `-replace=${r.module}=${r.target ?? r.module}@${r.version}`),
              modfile,
            ],
          ]
        : []),
      ...(go.freshModule ? [['mod', 'tidy', `-modfile=${modfile}`]] : []),
    ];
    for (const step of steps) {
      const r = await streamed('go', step, job.groups[0]!, { ...o, env }, undefined, dir);
      if (r.code !== 0) throw fail(`go ${step.slice(0, 2).join(' ')}`, r.tail, r.code);
    }
    args.push(`-modfile=${modfile}`);
  }
  if (go.tags.length > 0) args.push('-tags', go.tags.join(','));
  const r = await streamed('go', [...args, go.execPkg], job.groups[0]!, { ...o, env }, undefined, dir);
  if (r.code === 127) {
    throw new EnvironmentError(
      `group "${job.groups[0]}" is built with go build, and go is not on PATH: apt-get install golang-go`,
    );
  }
  if (r.code !== 0) throw fail('go build', r.tail, r.code);
  renameSync(partial, program);
}

/**
 * Runs a command with its output streamed to stderr, each line after `build <group> │`; keeps
 * the last lines. An abort (Ctrl-C) ends it with SIGTERM.
 */
function streamed(
  cmd: string,
  args: readonly string[],
  group: string,
  o: Pick<RunBuildsOptions, 'env' | 'stderr' | 'signal'>,
  feed?: (stdin: NodeJS.WritableStream) => void,
  cwd?: string,
): Promise<{ code: number; tail: string[] }> {
  return new Promise((resolved) => {
    let ended = false;
    const done = (r: { code: number; tail: string[] }) => {
      if (!ended) resolved(r);
      ended = true;
    };
    const tail: string[] = [];
    const child = spawn(cmd, args, {
      env: o.env as NodeJS.ProcessEnv,
      stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(cwd !== undefined && { cwd }),
    });
    const onAbort = () => child.kill('SIGTERM');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let partial = '';
    const take = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        tail.push(line);
        if (tail.length > TAIL) tail.shift();
        o.stderr(`build ${group} │ ${line}\n`);
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    if (feed) {
      child.stdin!.on('error', () => undefined);
      feed(child.stdin!);
    }
    child.on('error', () => done({ code: 127, tail }));
    child.on('close', (code, signal) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (partial) take(Buffer.from('\n'));
      done({ code: code ?? (signal ? 130 : 1), tail });
    });
  });
}
