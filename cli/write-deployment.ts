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
  const code = printDiagnostics(result, opts, io);
  if (code !== 0) return code;
  const cwd = io.cwd ?? '.';
  const outDir = resolve(cwd, opts.out ?? join('deploy', opts.target));
  const shown = relative(cwd, outDir) || '.';
  const planDir = file === '-' ? cwd : dirname(resolve(cwd, file));
  const files = target.render!(result.plan!, {
    runtime: loadRuntimeBundle(),
    ...(opts.runtimeImage !== undefined && { runtimeImage: opts.runtimeImage }),
    ...(opts.shaping !== undefined && { shaping: opts.shaping }),
    planDir: relative(outDir, planDir).split(sep).join('/') || '.',
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
