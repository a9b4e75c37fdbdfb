import type { Code } from './codes.js';
import { lineCol, lineText, type Range, type SourceFile } from './source.js';

export type Severity = 'error' | 'warning';

/** One problem found in a plan, with its position resolved to 1-based line and column. */
export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  readonly file: string;
  /** Absent when the problem has no place in the text (a missing file, say). */
  readonly line?: number;
  readonly col?: number;
  /** End of the offending span on the same line (exclusive), for the underline. */
  readonly endCol?: number;
  readonly message: string;
}

/**
 * Where the stages put what they find: no stage throws on bad input, each pushes here and
 * the CLI prints everything once, sorted.
 */
export class Diagnostics {
  readonly items: Diagnostic[] = [];

  constructor(readonly source: SourceFile | { readonly name: string }) {}

  error(code: Code, range: Range | undefined, message: string): void {
    this.push('error', code, range, message);
  }

  warning(code: Code, range: Range | undefined, message: string): void {
    this.push('warning', code, range, message);
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  private push(severity: Severity, code: Code, range: Range | undefined, message: string): void {
    const file = this.source.name;
    if (!range || !('text' in this.source)) {
      this.items.push({ code, severity, file, message });
      return;
    }
    const { line, col } = lineCol(this.source, range.start);
    const end = lineCol(this.source, Math.max(range.start, range.end));
    const endCol = end.line === line && end.col > col ? end.col : col + 1;
    this.items.push({ code, severity, file, line, col, endCol, message });
  }
}

/** Position order: by file, then line and column (position-less first), then code. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

export interface FormatOptions {
  /** ANSI colours; the CLI turns them off for NO_COLOR and non-TTY output. @default false */
  readonly color?: boolean;
}

/**
 * `file:line:col: error[CODE]: message`, then the source line and a caret under the span,
 * the way compilers print them.
 */
export function formatDiagnostic(d: Diagnostic, source: SourceFile | undefined, options: FormatOptions = {}): string {
  const paint = (code: string, s: string): string => (options.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col}`;
  const label = d.severity === 'error' ? paint('1;31', `error[${d.code}]`) : paint('1;33', `warning[${d.code}]`);
  const head = `${paint('1', where)}: ${label}: ${clip(d.message, MAX_LINE - where.length - label.length)}`;
  // A diagnostic of another file (a Testground manifest) has no excerpt here.
  if (d.line === undefined || source === undefined || !('text' in source) || source.name !== d.file) return head;
  const chars = [...lineText(source, d.line).replace(/\t/g, ' ')];
  const gutter = String(d.line);
  const pad = ' '.repeat(gutter.length);
  const col = Math.min(d.col ?? 1, chars.length + 1);
  const width = Math.max(1, Math.min((d.endCol ?? col + 1) - col, chars.length - col + 1));
  // A long line is shown as a window around the caret, `…` where it was cut.
  const view = excerptWindow(chars.length, col);
  const text =
    (view.from > 0 ? '…' : '') + chars.slice(view.from, view.to).join('') + (view.to < chars.length ? '…' : '');
  const at = col - view.from + (view.from > 0 ? 1 : 0);
  const shown = Math.max(1, Math.min(width, view.to - col + 1));
  const caret = ' '.repeat(at - 1) + paint(d.severity === 'error' ? '1;31' : '1;33', '^'.repeat(shown));
  return `${head}\n${pad} |\n${gutter} | ${text}\n${pad} | ${caret}`;
}

/** No line of a diagnostic is longer than this (the excerpt: its window; the message: cut). */
const MAX_LINE = 200;
/** The columns of source shown around the caret of a long line. */
const EXCERPT = 120;

/** The part of a `length`-character line shown: `EXCERPT` columns with the caret 40 in, or all of it. */
function excerptWindow(length: number, col: number): { from: number; to: number } {
  if (length <= EXCERPT) return { from: 0, to: length };
  const from = Math.max(0, Math.min(col - 1 - 40, length - EXCERPT));
  return { from, to: Math.min(length, from + EXCERPT) };
}

function clip(message: string, room: number): string {
  const max = Math.max(60, room - 4);
  const chars = [...message];
  return chars.length <= max ? message : `${chars.slice(0, max - 1).join('')}…`;
}
