import type { Composition } from '../schema/composition.js';
import type { Plan } from '../schema/ir.js';
import { checkMeaning } from './check-meaning.js';
import { checkSchema } from './check-schema.js';
import { Diagnostics } from './diagnostics.js';
import { toJsonValues } from './json-values.js';
import { normalize } from './normalize.js';
import { parseToml, type Parsed } from './parse-toml.js';
import { parseYaml } from './parse-yaml.js';
import { decodePlan, readPlanFile, type Format, type ReadResult } from './read-plan.js';
import type { Positions } from './positions.js';
import type { SourceFile } from './source.js';
import { compileTestground, isTestground, type TestgroundOptions } from './testground/compile-testground.js';

/**
 * The compiler's phases, in order (each a function a test can stop after):
 *
 *   1. read        `readPlanFile` / `decodePlan`: bytes → UTF-8 text, size and format checks
 *   2. parse       `parseToml` / `parseYaml`: text → value + a position for every key and value
 *   3. clean       `toJsonValues`: parser values → plain JSON (dates, big integers, inf/nan)
 *   4. schema      `checkSchema`: the shape, against `schema/composition.schema.json`
 *   5. meaning     `checkMeaning`: cross-references, sums, combinations
 *   6. normalize   `normalize`: → the frozen IR (`schema/ir.ts`)
 *
 * Every phase reports into one `Diagnostics`; the first three stop the pipeline when they
 * fail, schema and meaning both run so that all problems show at once.
 */
export interface CompileResult {
  readonly plan?: Plan;
  /** A Testground composition: all its runs (in the order tgc runs them), and the one compiled. */
  readonly testground?: { readonly runs: readonly string[]; readonly run: string };
  /** A Testground composition's run as a tgc composition (what `tgc convert` writes). */
  readonly composition?: Composition;
  readonly source?: SourceFile;
  /** Where each value sits in the source, by JSON Pointer: for later stages (targets) to report at. */
  readonly positions?: Positions;
  readonly diagnostics: Diagnostics;
}

export interface CompileOptions {
  /** For Testground compositions (docs/testground.md). */
  readonly testground?: TestgroundOptions;
}

export function compileFile(path: string, format?: Format, options: CompileOptions = {}): CompileResult {
  return compileRead(readPlanFile(path, format), options);
}

export function compileText(
  name: string,
  text: string | Uint8Array,
  format?: Format,
  options: CompileOptions = {},
): CompileResult {
  return compileRead(
    decodePlan(name, typeof text === 'string' ? new TextEncoder().encode(text) : text, format),
    options,
  );
}

function compileRead(read: ReadResult, options: CompileOptions): CompileResult {
  const { source, format, diagnostics } = read;
  if (!source || !format || diagnostics.hasErrors) return { ...(source && { source }), diagnostics };
  // A Testground composition has a front end of its own, then goes through schema, meaning and
  // normalize like any plan.
  if (format === 'testground' || (format === 'toml' && isTestground(source.text))) {
    const tg = compileTestground(source, diagnostics, options.testground);
    if (!tg || diagnostics.hasErrors) return { source, diagnostics };
    const testground = { runs: tg.runs, run: tg.run };
    const shapeOk = checkSchema(tg.value, tg.positions, 'toml', diagnostics);
    checkMeaning(tg.value, tg.positions, diagnostics);
    if (!shapeOk || diagnostics.hasErrors) return { source, diagnostics, testground };
    const plan = normalize(tg.value);
    return { source, diagnostics, testground, composition: tg.value, positions: tg.positions, plan };
  }
  const parsed: Parsed | undefined =
    format === 'toml' ? parseToml(source, diagnostics) : parseYaml(source, diagnostics);
  if (!parsed) return { source, diagnostics };
  const value = toJsonValues(parsed.value, parsed.positions, diagnostics);
  if (diagnostics.hasErrors) return { source, diagnostics };
  if (value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0)) {
    diagnostics.error(
      'FILE_EMPTY',
      { start: 0, end: 1 },
      'the plan holds no keys; it needs at least version, name and groups (see `tgc schema`)',
    );
    return { source, diagnostics };
  }
  const shapeOk = checkSchema(value, parsed.positions, format, diagnostics);
  checkMeaning(value, parsed.positions, diagnostics);
  if (!shapeOk || diagnostics.hasErrors) return { source, diagnostics };
  return { source, diagnostics, positions: parsed.positions, plan: normalize(value as Composition) };
}
