import { dirname, join, relative, resolve, sep } from 'node:path';
import type { CliIo, CompileOptions, PlanOptions } from '../main.js';
import type { CompileResult } from '../../compiler/pipeline.js';
import { locate } from '../../compiler/positions.js';
import { diffOutput, foreignFile, writeOutput } from '../../targets/output-dir.js';
import { TARGETS } from '../../targets/registry.js';
import { loadRuntimeBundle } from '../../targets/runtime-bundle.js';

/** `tgc compile`: checks what the target cannot express, renders, then writes or `--check`s. Resolves to the exit code. */
export async function compileCommand(
  file: string,
  result: CompileResult,
  opts: PlanOptions & CompileOptions,
  io: CliIo,
  report: (r: CompileResult, o: PlanOptions, io: CliIo) => number,
): Promise<number> {
  const target = await TARGETS[opts.target]();
  if (result.plan && result.positions) {
    for (const p of target.check(result.plan))
      result.diagnostics.error(p.code, locate(result.positions, p.pointer), p.message);
  }
  const code = report(result, opts, io);
  if (code !== 0) return code;
  const cwd = io.cwd ?? '.';
  const outDir = resolve(cwd, opts.out ?? join('deploy', opts.target));
  const shown = relative(cwd, outDir) || '.';
  const planDir = file === '-' ? cwd : dirname(resolve(cwd, file));
  const files = target.render(result.plan!, {
    runtime: loadRuntimeBundle(),
    ...(opts.runtimeImage !== undefined && { runtimeImage: opts.runtimeImage }),
    ...(opts.shaping !== undefined && { shaping: opts.shaping }),
    planDir: relative(outDir, planDir).split(sep).join('/') || '.',
  });
  if (opts.check) {
    const diff = diffOutput(outDir, files);
    if (diff === '') {
      io.stderr(`${shown}: up to date\n`);
      return 0;
    }
    io.stdout(diff.replaceAll(outDir, shown));
    io.stderr(
      `${shown}: stale; run tgc compile ${file} --target ${opts.target}${opts.out ? ` -o ${opts.out}` : ''} to refresh it\n`,
    );
    return 1;
  }
  const foreign = foreignFile(outDir);
  if (foreign) {
    io.stderr(
      `tgc: ${shown} holds ${foreign}, which tgc did not generate; tgc replaces its output directory as a whole, so give -o a directory of its own (nothing was written)\n`,
    );
    return 2;
  }
  try {
    writeOutput(outDir, files);
  } catch (err) {
    io.stderr(`tgc: cannot write ${shown}: ${(err as Error).message} (nothing was written)\n`);
    return 3;
  }
  io.stderr(`${shown}: ${files.size} file${files.size === 1 ? '' : 's'} written (${opts.target})\n`);
  return 0;
}
