import { readFileSync, statSync } from 'node:fs';
import { Diagnostics } from './diagnostics.js';
import { sourceFile, type SourceFile } from './source.js';

/** `testground`: a Testground composition (TOML, rendered as a Go template first). */
export type Format = 'toml' | 'yaml' | 'testground';

/** Larger plans are refused before being read: 10,000 instances fit in a few kilobytes. */
export const MAX_PLAN_BYTES = 10 * 1024 * 1024;

export interface ReadResult {
  readonly source?: SourceFile;
  readonly format?: Format;
  readonly diagnostics: Diagnostics;
}

/** `.toml` → toml, `.yaml`/`.yml` → yaml; anything else needs `--format`. */
export function formatFromName(name: string): Format | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.toml')) return 'toml';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return undefined;
}

/** Reads a plan file from disk; every way it can fail becomes a diagnostic, never a throw. */
export function readPlanFile(path: string, format?: Format): ReadResult {
  const diagnostics = new Diagnostics({ name: path });
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      diagnostics.error(
        'FILE_IS_DIRECTORY',
        undefined,
        `is a directory; give the plan file inside it (for example ${path.replace(/\/$/, '')}/plan.toml)`,
      );
      return { diagnostics };
    }
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      diagnostics.error('FILE_NOT_FOUND', undefined, 'no such file; check the path');
    else diagnostics.error('FILE_UNREADABLE', undefined, `cannot read the file (${code ?? String(err)})`);
    return { diagnostics };
  }
  if (size > MAX_PLAN_BYTES) {
    diagnostics.error(
      'FILE_TOO_LARGE',
      undefined,
      `the file is ${size} bytes; plans are limited to ${MAX_PLAN_BYTES} bytes (10 MiB)`,
    );
    return { diagnostics };
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    diagnostics.error(
      'FILE_UNREADABLE',
      undefined,
      `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
    return { diagnostics };
  }
  return decodePlan(path, bytes, format);
}

/** Bytes → checked text: size, UTF-8, not binary, not empty, a known format. Pure. */
export function decodePlan(name: string, bytes: Uint8Array, format?: Format): ReadResult {
  const chosen = format ?? formatFromName(name);
  if (bytes.length > MAX_PLAN_BYTES) {
    const diagnostics = new Diagnostics({ name });
    diagnostics.error(
      'FILE_TOO_LARGE',
      undefined,
      `the input is ${bytes.length} bytes; plans are limited to ${MAX_PLAN_BYTES} bytes (10 MiB)`,
    );
    return { diagnostics };
  }
  const bad = firstNonText(bytes);
  if (bad !== -1) {
    const prefix = new TextDecoder().decode(bytes.subarray(0, bad));
    const source = sourceFile(name, prefix);
    const diagnostics = new Diagnostics(source);
    diagnostics.error(
      'FILE_NOT_TEXT',
      { start: prefix.length, end: prefix.length + 1 },
      `byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at offset ${bad}: a plan must be UTF-8 text`,
    );
    return { diagnostics };
  }
  let text = new TextDecoder().decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const source = sourceFile(name, text);
  const diagnostics = new Diagnostics(source);
  if (chosen === undefined) {
    diagnostics.error(
      'UNKNOWN_FORMAT',
      undefined,
      'cannot tell the format from the file name; name it .toml, .yaml or .yml, or pass --format toml|yaml',
    );
    return { diagnostics };
  }
  if (text.trim() === '') {
    diagnostics.error(
      'FILE_EMPTY',
      { start: 0, end: 1 },
      'the file is empty; a plan needs at least version, name and groups (see `tgc schema`)',
    );
    return { diagnostics };
  }
  return { source, format: chosen, diagnostics };
}

/**
 * Offset of the first byte that makes this not text: NUL, or an invalid UTF-8 sequence.
 * -1 when the bytes are text.
 */
function firstNonText(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c === 0) return i;
    let extra: number;
    let min: number;
    if (c < 0x80) ((extra = 0), (min = 0));
    else if (c >= 0xc2 && c <= 0xdf) ((extra = 1), (min = 0x80));
    else if (c >= 0xe0 && c <= 0xef) ((extra = 2), (min = 0x800));
    else if (c >= 0xf0 && c <= 0xf4) ((extra = 3), (min = 0x10000));
    else return i;
    if (i + extra >= b.length && extra > 0) return i;
    let cp = extra === 0 ? c : c & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += extra + 1;
  }
  return -1;
}
