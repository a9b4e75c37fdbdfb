/** A plan's text with a line index, so offsets become `line:col` in one binary search. */
export interface SourceFile {
  /** The name shown in diagnostics: the path as given, or `<stdin>`. */
  readonly name: string;
  readonly text: string;
  /** Offset of the first character of every line. */
  readonly lineStarts: readonly number[];
}

/** A half-open range of UTF-16 offsets into `SourceFile.text`. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

export function sourceFile(name: string, text: string): SourceFile {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) lineStarts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) lineStarts.push(i + 1);
  }
  return { name, text, lineStarts };
}

/** 1-based line and column (columns count Unicode code points, as editors do). */
export function lineCol(file: SourceFile, offset: number): { line: number; col: number } {
  const starts = file.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  const lineStart = starts[lo]!;
  const col = [...file.text.slice(lineStart, Math.min(offset, file.text.length))].length + 1;
  return { line: lo + 1, col };
}

/** The text of a 1-based line, without its line break. */
export function lineText(file: SourceFile, line: number): string {
  const start = file.lineStarts[line - 1];
  if (start === undefined) return '';
  const next = file.lineStarts[line];
  return file.text.slice(start, next ?? file.text.length).replace(/\r?\n$|\r$/, '');
}
