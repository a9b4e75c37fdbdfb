import { dirname } from 'node:path';
import type { Composition } from '../../schema/composition.js';
import { Diagnostics } from '../diagnostics.js';
import type { Code } from '../codes.js';
import { parseToml } from '../parse-toml.js';
import type { Located, Positions } from '../positions.js';
import { sourceFile, type Range, type SourceFile } from '../source.js';
import { decodeComposition } from './decode.js';
import { renderTemplate, sourceOffset } from './go-template-exec.js';
import { TemplateError } from './go-template-parse.js';
import { stringMap } from './go-template-values.js';
import { findManifest, loadManifest } from './manifest.js';
import { prepareRuns, type Report } from './prepare.js';
import { testgroundFuncs } from './testground-funcs.js';
import { toComposition } from './to-composition.js';
import type { TgComposition } from './types.js';

export interface TestgroundOptions {
  /** `--run ID`; default: the first run in id order. */
  readonly run?: string;
  /** `--manifest PATH`; default: manifest.toml beside the composition or above it. */
  readonly manifest?: string;
  /** The target the plan is for; default: the one the composition's runner names. */
  readonly target?: string;
  /** `.Env` of the template (the CLI's environment). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface TestgroundResult {
  readonly value: Composition;
  readonly positions: Positions;
  /** Every run id, in the order `tgc run` runs them. */
  readonly runs: readonly string[];
  readonly run: string;
}

/** A TOML text that is a Testground composition: a `[global]` table and no `version` key. */
export function isTestground(text: string): boolean {
  const head = text.split(/^\s*\[/m)[0] ?? '';
  return /^\s*\[\s*global\s*\]/im.test(text) && !/^\s*version\s*=/m.test(head);
}

/** The target a Testground runner stands for. */
export function runnerTarget(runner: string | undefined): string | undefined {
  return { 'local:exec': 'local', 'local:docker': 'compose', 'cluster:k8s': 'k8s', 'cluster:swarm': 'swarm' }[
    runner ?? ''
  ];
}

/** Diagnostics on the rendered text, reported at the matching place of the template. */
class Mapped extends Diagnostics {
  constructor(
    private readonly into: Diagnostics,
    private readonly map: (r: Range) => Range,
  ) {
    super(into.source);
  }
  override error(code: Code, range: Range | undefined, message: string): void {
    this.into.error(code, range && this.map(range), message);
  }
  override warning(code: Code, range: Range | undefined, message: string): void {
    this.into.warning(code, range && this.map(range), message);
  }
  override get hasErrors(): boolean {
    return this.into.hasErrors;
  }
}

/**
 * The Testground front end: template → TOML → Testground's structs, manifest and run
 * preparation → a tgc composition of one run, located in the original file. Undefined when
 * the problems found leave nothing to compile.
 */
export function compileTestground(
  source: SourceFile,
  diags: Diagnostics,
  o: TestgroundOptions = {},
): TestgroundResult | undefined {
  const env = stringMap(
    Object.fromEntries(Object.entries(o.env ?? {}).filter(([, v]) => v !== undefined)) as Record<string, string>,
  );
  const dir = dirname(source.name);
  let rendered;
  try {
    rendered = renderTemplate(source.text, { Env: env }, testgroundFuncs(dir, env));
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    diags.error('TEMPLATE_ERROR', { start: err.offset, end: err.offset + 2 }, `template: ${err.message}`);
    return undefined;
  }
  const r = rendered;
  const toSource = (range: Range): Range => {
    const start = sourceOffset(r, range.start);
    const end = sourceOffset(r, Math.max(range.start, range.end - 1)) + 1;
    return { start, end: Math.max(start + 1, end) };
  };
  const mapped = new Mapped(diags, toSource);
  const parsed = parseToml(sourceFile(source.name, r.text), mapped);
  if (!parsed) return undefined;
  const decoded = decodeComposition(parsed.value, parsed.positions, r.text, toSource, diags);
  const c = decoded.value as TgComposition;
  const at = (canon: string, want: 'key' | 'value' = 'value'): Range => {
    for (let p = canon; ; p = p.slice(0, p.lastIndexOf('/'))) {
      const written = decoded.written.get(p);
      const loc = written !== undefined ? parsed.positions.get(written) : undefined;
      if (loc) return toSource((want === 'key' || p !== canon ? loc.key : undefined) ?? loc.value);
      if (p === '') return { start: 0, end: 1 };
    }
  };
  const report: Report = (severity, code, canon, message, want) =>
    severity === 'error' ? diags.error(code, at(canon, want), message) : diags.warning(code, at(canon, want), message);

  const manifestPath = o.manifest ?? (source.name === '<stdin>' ? undefined : findManifest(source.name));
  let manifest;
  if (manifestPath) {
    const loaded = loadManifest(manifestPath);
    diags.items.push(...loaded.diagnostics.items);
    manifest = loaded.manifest;
  } else {
    diags.warning(
      'NO_MANIFEST',
      undefined,
      `no manifest.toml beside the composition or above it (--manifest names one): the test case and the params' ` +
        'defaults are not checked',
    );
  }
  const runs = prepareRuns(c, manifest, report);
  if (runs.length === 0) return undefined;
  const chosen = o.run === undefined ? runs[0]! : runs.find((x) => x.id === o.run);
  if (!chosen) {
    diags.error(
      'UNKNOWN_RUN',
      undefined,
      `--run ${o.run}: the composition's runs are ${runs.map((x) => x.id).join(', ')}`,
    );
    return undefined;
  }
  const target = o.target ?? runnerTarget(c.global?.runner) ?? 'local';
  const planDir = manifestPath ? dirname(manifestPath) : dir;
  const planName = manifest?.name ?? c.global?.plan ?? 'testground';
  const { composition, from } = toComposition(c, chosen, { file: source.name, planDir, planName, target }, report);
  const positions = new Map<string, Located>();
  for (const [tgcPtr, canon] of from) positions.set(tgcPtr, { value: at(canon), key: at(canon, 'key') });
  return { value: composition, positions, runs: runs.map((x) => x.id), run: chosen.id };
}
