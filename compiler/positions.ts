import type { Range } from './source.js';

/** Where a value (and the key that names it, if any) sits in the source text. */
export interface Located {
  readonly key?: Range;
  readonly value: Range;
}

/** JSON Pointer (RFC 6901) → position; the same paths ajv reports as `instancePath`. */
export type Positions = ReadonlyMap<string, Located>;

export function pointer(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) out += '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1');
  return out;
}

export function parentPointer(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

export function lastSegment(path: string): string {
  return path
    .slice(path.lastIndexOf('/') + 1)
    .replace(/~1/g, '/')
    .replace(/~0/g, '~');
}

const START: Range = { start: 0, end: 1 };

/**
 * The range to underline for `path`: its key or its value, or the nearest located ancestor
 * when the path itself was never written (a missing key points at its parent table).
 */
export function locate(positions: Positions, path: string, want: 'key' | 'value' = 'value'): Range {
  let p = path;
  for (;;) {
    const found = positions.get(p);
    if (found)
      return (want === 'key' ? found.key : undefined) ?? (p === path ? found.value : (found.key ?? found.value));
    if (p === '') return START;
    p = parentPointer(p);
  }
}
