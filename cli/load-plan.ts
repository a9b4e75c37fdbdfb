import { formatDiagnostic, sortDiagnostics, type Diagnostic } from '../compiler/diagnostics.js';
import { compileFile, compileText, type CompileOptions, type CompileResult } from '../compiler/pipeline.js';
import { MAX_PLAN_BYTES, type Format } from '../compiler/read-plan.js';
import type { Plan } from '../schema/ir.js';
import { overrideImages } from '../targets/image-overrides.js';
import { EXIT } from '../model/exit-codes.js';
import type { CliIo } from './io.js';

export interface PlanOptions {
  format?: Format;
  json?: boolean;
  /** Testground compositions: `--run ID`, `--manifest PATH`. */
  run?: string;
  manifest?: string;
  /** `--image` (compile, run): images instead of the plan's (and its builds). */
  image?: string[];
}

/**
 * The pipeline over a plan file, or standard input for `-` (which needs --format). `target`:
 * the target the plan is for, when the command knows it (a Testground composition's artifact
 * is a program on the local target, an image on the others).
 */
export function loadPlan(file: string, opts: PlanOptions, io: CliIo, target?: string): CompileResult | undefined {
  const options: CompileOptions = {
    testground: {
      ...(opts.run !== undefined && { run: opts.run }),
      ...(opts.manifest !== undefined && { manifest: opts.manifest }),
      ...(target !== undefined && { target }),
      env: io.env ?? {},
    },
  };
  if (file !== '-') return compileFile(file, opts.format, options);
  if (!opts.format) {
    io.stderr('tgc: reading a plan from stdin (-) needs --format toml, yaml or testground\n');
    return undefined;
  }
  return compileText('<stdin>', io.readStdin(MAX_PLAN_BYTES), opts.format, options);
}

/**
 * Every plan a file stands for, loaded and its diagnostics printed: the plan, or a Testground
 * composition's `[[runs]]` (all of them, in id order, or the one `--run` names). Resolves to the
 * exit code instead when one of them is invalid.
 */
export function loadRuns(
  file: string,
  opts: PlanOptions,
  io: CliIo,
  target?: string,
): { readonly plans: readonly { readonly run?: string; readonly plan: Plan }[] } | { readonly code: number } {
  const first = loadPlan(file, opts, io, target);
  if (!first) return { code: EXIT.invalid };
  const runs = opts.run === undefined && first.testground ? first.testground.runs : [opts.run];
  const plans: { run?: string; plan: Plan }[] = [];
  for (const [i, run] of runs.entries()) {
    const result = i === 0 ? first : loadPlan(file, { ...opts, ...(run !== undefined && { run }) }, io, target);
    if (!result) return { code: EXIT.invalid };
    const code = printDiagnostics(result, { ...opts, json: false }, io);
    if (code !== EXIT.ok) return { code };
    plans.push({ ...(run !== undefined && { run }), plan: result.plan! });
  }
  return { plans };
}

/** A Testground composition with several runs makes one plan per run: commands that print or write one need --run. */
export function singleRun(result: CompileResult, opts: PlanOptions, io: CliIo): boolean {
  const tg = result.testground;
  if (tg && tg.runs.length > 1 && opts.run === undefined) {
    io.stderr(`tgc: the composition has ${tg.runs.length} runs (${tg.runs.join(', ')}): pick one with --run ID\n`);
    return false;
  }
  return true;
}

/** The plan with `--image` overrides applied, or undefined after saying why not. */
export function withImages(plan: Plan, specs: readonly string[], target: string, io: CliIo): Plan | undefined {
  if (specs.length > 0 && target === 'local') {
    io.stderr('tgc: --image is for the container targets (compose, k8s, nomad); the local target runs command\n');
    return undefined;
  }
  const out = overrideImages(plan, specs);
  if ('error' in out) {
    io.stderr(`tgc: ${out.error}\n`);
    return undefined;
  }
  return out;
}

/** Prints the diagnostics; returns 2 when any is an error, else 0. */
export function printDiagnostics(result: CompileResult, opts: PlanOptions, io: CliIo): number {
  const sorted: Diagnostic[] = sortDiagnostics(result.diagnostics.items);
  const errors = sorted.filter((d) => d.severity === 'error').length;
  if (opts.json) {
    if (errors > 0) io.stdout(JSON.stringify({ ok: false, diagnostics: sorted }, null, 2) + '\n');
  } else if (sorted.length > 0) {
    const text = sorted.map((d) => formatDiagnostic(d, result.source, { color: io.color })).join('\n\n');
    const warnings = sorted.length - errors;
    const summary = [
      errors && `${errors} error${errors === 1 ? '' : 's'}`,
      warnings && `${warnings} warning${warnings === 1 ? '' : 's'}`,
    ]
      .filter(Boolean)
      .join(', ');
    io.stderr(`${text}\n\n${summary}\n`);
  }
  return errors > 0 ? EXIT.invalid : EXIT.ok;
}
