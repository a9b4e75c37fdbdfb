import TOML from '@iarna/toml';
import type { Diagnostics } from './diagnostics.js';
import { pointer, type Located, type Positions } from './positions.js';
import type { Range, SourceFile } from './source.js';
import { tooDeepMessage, tooDeepToml } from './nesting-depth.js';

export interface Parsed {
  /** The document as the parser returned it (not yet JSON-clean: see `toJsonValues`). */
  readonly value: unknown;
  readonly positions: Positions;
}

/**
 * TOML → value + positions. `@iarna/toml` decides what is valid TOML and gives the values;
 * it keeps no positions, so `scanTomlPositions` walks the (already valid) text once more and
 * records where every key and value sits.
 */
export function parseToml(source: SourceFile, diags: Diagnostics): Parsed | undefined {
  const deep = tooDeepToml(source.text);
  if (deep !== undefined) {
    diags.error('TOO_DEEP', { start: deep, end: deep + 1 }, tooDeepMessage());
    return undefined;
  }
  let value: unknown;
  try {
    value = TOML.parse(source.text);
  } catch (err) {
    const e = err as { fromTOML?: boolean; pos?: number; message?: string };
    if (!e.fromTOML) throw err;
    const message = String(e.message ?? 'syntax error').split(/ at row \d+/)[0]!;
    if (/redefine/i.test(message)) {
      const dup = safeScan(source.text)?.duplicates[0];
      if (dup) {
        diags.error('DUPLICATE_KEY', dup, `duplicate key: it is already defined above`);
        return undefined;
      }
    }
    let at = Math.min(e.pos ?? 0, source.text.length);
    // An unterminated string is found at the next line; point at the line that is broken.
    if (/unterminated/i.test(message) && at > 0 && (source.text[at - 1] === '\n' || at === source.text.length)) {
      at = source.text[at - 1] === '\n' ? at - 1 : at;
      if (source.text[at - 1] === '\r') at--;
    }
    diags.error('TOML_SYNTAX', { start: at, end: at + 1 }, lowerFirst(message));
    return undefined;
  }
  const scan = safeScan(source.text);
  return { value, positions: scan?.positions ?? new Map() };
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function safeScan(text: string): ScanResult | undefined {
  try {
    return scanTomlPositions(text);
  } catch {
    // Positions only sharpen error locations; a text the scanner cannot follow still parses.
    return undefined;
  }
}

export interface ScanResult {
  readonly positions: Map<string, Located>;
  /** Keys (or table headers) defined a second time, in source order. */
  readonly duplicates: Range[];
}

interface KeyPart {
  readonly name: string;
  readonly range: Range;
}

/**
 * Records the position of every key and value of a syntactically valid TOML text, under the
 * JSON Pointer the parsed value would have. It follows the structure (tables, arrays of
 * tables, dotted keys, inline tables and arrays) and skips over the literals themselves.
 */
export function scanTomlPositions(text: string): ScanResult {
  const positions = new Map<string, Located>();
  const duplicates: Range[] = [];
  const arrayCounts = new Map<string, number>();
  const headed = new Set<string>();
  const assigned = new Set<string>();
  let pos = 0;

  const at = (s: string): boolean => text.startsWith(s, pos);
  const skipSpaces = (): void => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  };
  const skipBlank = (): void => {
    for (;;) {
      skipSpaces();
      const c = text[pos];
      if (c === '\n' || c === '\r') pos++;
      else if (c === '#') while (pos < text.length && text[pos] !== '\n') pos++;
      else return;
    }
  };
  const fail = (what: string): never => {
    throw new Error(`toml scan: ${what} at ${pos}`);
  };
  const note = (path: string, located: Located): void => {
    if (!positions.has(path)) positions.set(path, located);
  };

  const readQuoted = (quote: string, escapes: boolean): string => {
    const start = ++pos;
    while (pos < text.length && text[pos] !== quote) pos += escapes && text[pos] === '\\' ? 2 : 1;
    if (pos >= text.length) fail('unterminated string');
    const raw = text.slice(start, pos++);
    return escapes ? unescapeBasic(raw) : raw;
  };

  const readKey = (): KeyPart[] => {
    const parts: KeyPart[] = [];
    for (;;) {
      skipSpaces();
      const start = pos;
      let name: string;
      if (text[pos] === '"') name = readQuoted('"', true);
      else if (text[pos] === "'") name = readQuoted("'", false);
      else {
        while (pos < text.length && /[A-Za-z0-9_-]/.test(text[pos]!)) pos++;
        if (pos === start) fail('expected a key');
        name = text.slice(start, pos);
      }
      parts.push({ name, range: { start, end: pos } });
      skipSpaces();
      if (text[pos] !== '.') return parts;
      pos++;
    }
  };

  /** The path a header or dotted key leads through, entering the last element of arrays of tables. */
  const descend = (base: readonly (string | number)[], parts: readonly KeyPart[]): (string | number)[] => {
    const segs = [...base];
    for (const part of parts) {
      segs.push(part.name);
      const p = pointer(segs);
      note(p, { key: part.range, value: part.range });
      const count = arrayCounts.get(p);
      if (count !== undefined) segs.push(count - 1);
    }
    return segs;
  };

  const assign = (path: string, located: Located): void => {
    if (assigned.has(path) || headed.has(path)) duplicates.push(located.key ?? located.value);
    assigned.add(path);
    positions.set(path, located);
  };

  const skipString = (): void => {
    const triple = text.slice(pos, pos + 3);
    if (triple === '"""' || triple === "'''") {
      const escapes = triple === '"""';
      pos += 3;
      while (pos < text.length && !text.startsWith(triple, pos)) pos += escapes && text[pos] === '\\' ? 2 : 1;
      if (pos >= text.length) fail('unterminated string');
      pos += 3;
      // Up to two quotes may sit right before the closing delimiter: """a""""  is `a"`.
      for (let extra = 0; extra < 2 && text[pos] === triple[0]; extra++) pos++;
      return;
    }
    readQuoted(text[pos]!, text[pos] === '"');
  };

  const readValue = (segs: readonly (string | number)[], key: Range | undefined): void => {
    const start = pos;
    const path = pointer(segs);
    const c = text[pos];
    if (c === '"' || c === "'") skipString();
    else if (c === '[') {
      pos++;
      for (let i = 0; ; i++) {
        skipBlank();
        if (text[pos] === ']') break;
        readValue([...segs, i], undefined);
        skipBlank();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ']') fail('expected , or ]');
      }
      pos++;
    } else if (c === '{') {
      pos++;
      skipSpaces();
      while (text[pos] !== '}') {
        readPair(segs);
        skipSpaces();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail('expected , or }');
        skipSpaces();
      }
      pos++;
    } else {
      while (pos < text.length && !',]}#\n\r'.includes(text[pos]!)) pos++;
      while (pos > start && (text[pos - 1] === ' ' || text[pos - 1] === '\t')) pos--;
      if (pos === start) fail('expected a value');
    }
    const located: Located = key ? { key, value: { start, end: pos } } : { value: { start, end: pos } };
    if (key) assign(path, located);
    else positions.set(path, located);
  };

  const readPair = (table: readonly (string | number)[]): void => {
    const parts = readKey();
    const last = parts[parts.length - 1]!;
    const segs = descend(table, parts.slice(0, -1));
    if (text[pos] !== '=') fail('expected =');
    pos++;
    skipSpaces();
    readValue([...segs, last.name], last.range);
  };

  let table: (string | number)[] = [];
  while (pos < text.length) {
    const before = pos;
    skipBlank();
    if (pos >= text.length) break;
    if (text[pos] === '[') {
      const headerStart = pos;
      const isArray = at('[[');
      pos += isArray ? 2 : 1;
      const parts = readKey();
      const last = parts[parts.length - 1]!;
      if (!at(isArray ? ']]' : ']')) fail('expected ]');
      pos += isArray ? 2 : 1;
      const header: Range = { start: headerStart, end: pos };
      const segs = descend([], parts.slice(0, -1));
      segs.push(last.name);
      const p = pointer(segs);
      if (isArray) {
        note(p, { key: last.range, value: header });
        const count = (arrayCounts.get(p) ?? 0) + 1;
        arrayCounts.set(p, count);
        segs.push(count - 1);
        positions.set(pointer(segs), { key: last.range, value: header });
      } else {
        if (headed.has(p) || assigned.has(p)) duplicates.push(last.range);
        headed.add(p);
        positions.set(p, { key: last.range, value: header });
        const count = arrayCounts.get(p);
        if (count !== undefined) segs.push(count - 1);
      }
      table = segs;
    } else {
      readPair(table);
    }
    if (pos === before) fail('no progress');
  }
  return { positions, duplicates };
}

function unescapeBasic(raw: string): string {
  const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
  return raw.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, e: string) =>
    e.length > 1 ? String.fromCodePoint(parseInt(e.slice(1), 16)) : (simple[e] ?? e),
  );
}
