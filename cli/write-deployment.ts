import { dirname, join, relative, resolve, sep } from 'node:path';
import type { CompileResult } from '../compiler/pipeline.js';
import { locate } from '../compiler/positions.js';
import { diffOutput, foreignFile, writeOutput } from '../targets/output-dir.js';
import { TARGETS } from '../targets/registry.js';
import { loadRuntimeBundle } from '../targets/runtime-bundle.js';
import type { ContainerTargetName } from '../targets/target.js';
import { EXIT } from '../model/exit-codes.js';
import type { CliIo } from './io.js';
import { printDiagnostics, type PlanOptions } from './load-plan.js';

export interface CompileOptions {
  image?: string[];
  target: ContainerTargetName;
  out?: string;
  check?: boolean;
  runtimeImage?: string;
  shaping?: 'kernel' | 'userspace';
  /** `--push REGISTRY`: build, push, and name the pushed images. */
  push?: string;
}

/**
 * `tgc compile`, once the plan is loaded: what the target cannot express joins the diagnostics,
 * then the deployment is rendered and written, or compared (`--check`). Resolves to the exit code.
 */
export async function writeDeployment(
  file: string,
  result: CompileResult,
  opts: PlanOptions & CompileOptions,
  io: CliIo,
): Promise<number> {
  const target = await TARGETS[opts.target]();
  if (result.plan && result.positions) {
    for (const p of target.check(result.plan))
      result.diagnostics.error(p.code, locate(result.positions, p.pointer), p.message);
  }
  // A context under a prefix (Testground's docker:generic) is what a compose build section cannot say.
  if (result.plan && result.positions && opts.target === 'compose' && opts.push === undefined) {
    result.plan.groups.forEach((g, i) => {
      if (g.build?.contextPrefix === undefined) return;
      result.diagnostics.error(
        'TARGET_UNSUPPORTED',
        locate(result.positions!, `/groups/${i}/build`),
        `group "${g.id}"'s Dockerfile sees the plan under ${g.build.contextPrefix}/ in its build context ` +
          `(Testground's docker:generic), which a compose build section cannot express: compile with --push ` +
          `REGISTRY (tgc builds and names the image), or build the image and pass --image ${g.id}=IMAGE`,
      );
    });
  }
  const code = printDiagnostics(result, opts, io);
  if (code !== 0) return code;
  const cwd = io.cwd ?? '.';
  let plan = result.plan!;
  // Images the cluster pulls (k8s, nomad), or any target given --push: built and pushed first;
  // --check only names them (the tags are the hashes of their inputs: nothing needs building).
  if (plan.groups.some((g) => g.build) && (opts.push !== undefined || opts.target !== 'compose')) {
    const { planPlanBuilds } = await import('../targets/build/build-plan.js');
    const { EnvironmentError } = await import('../targets/driver/environment-error.js');
    try {
      const builds = await planPlanBuilds(plan, {
        target: opts.target,
        planFile: file,
        cwd,
        env: io.env ?? {},
        stderr: io.stderr,
        ...(opts.push !== undefined && { push: opts.push }),
        ...(io.signal && { signal: io.signal }),
      });
      plan = opts.check ? builds.planned : (await builds.run()).plan;
    } catch (err) {
      if (!(err instanceof EnvironmentError)) throw err;
      io.stderr(`tgc: ${err.message} (nothing was written)\n`);
      return EXIT.environment;
    }
  }
  const outDir = resolve(cwd, opts.out ?? join('deploy', opts.target));
  const shown = relative(cwd, outDir) || '.';
  const planDir = file === '-' ? cwd : dirname(resolve(cwd, file));
  const files = target.render!(plan, {
    runtime: loadRuntimeBundle(),
    ...(opts.runtimeImage !== undefined && { runtimeImage: opts.runtimeImage }),
    ...(opts.shaping !== undefined && { shaping: opts.shaping }),
    planDir: relative(outDir, planDir).split(sep).join('/') || '.',
    dockerfileFromContext: Object.fromEntries(
      plan.groups
        .filter((g) => g.build?.kind !== undefined)
        .map((g) => [
          g.id,
          relative(resolve(planDir, g.build!.context), join(outDir, 'build', g.id, 'Dockerfile'))
            .split(sep)
            .join('/'),
        ]),
    ),
  });
  if (opts.check) {
    const diff = diffOutput(outDir, files);
    if (diff === '') {
      io.stderr(`${shown}: up to date\n`);
      return EXIT.ok;
    }
    io.stdout(diff.replaceAll(outDir, shown));
    io.stderr(
      `${shown}: stale; run tgc compile ${file} --target ${opts.target}` +
        `${opts.out ? ` -o ${opts.out}` : ''} to refresh it\n`,
    );
    return EXIT.runFailed;
  }
  const foreign = foreignFile(outDir);
  if (foreign) {
    io.stderr(
      `tgc: ${shown} holds ${foreign}, which tgc did not generate; tgc replaces its output directory as a whole, ` +
        `so give -o a directory of its own (nothing was written)\n`,
    );
    return EXIT.invalid;
  }
  try {
    writeOutput(outDir, files);
  } catch (err) {
    io.stderr(`tgc: cannot write ${shown}: ${(err as Error).message} (nothing was written)\n`);
    return EXIT.environment;
  }
  io.stderr(`${shown}: ${files.size} file${files.size === 1 ? '' : 's'} written (${opts.target})\n`);
  return EXIT.ok;
}
