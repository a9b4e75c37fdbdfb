import TOML from '@iarna/toml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, NO_VALUE, stringMap, type GoMap, type GoValue } from './go-template-values.js';
import type { TemplateFunc } from './go-template-funcs.js';

// The functions Testground adds to a composition's template (testground pkg/cmd/template.go):
// load_resource, pick, toml, withEnv, split, atoi.

/** A TOML document as Go's `map[string]interface{}`: dates become their text. */
function fromToml(v: unknown): GoValue {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(fromToml);
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromToml(x)]));
  }
  return v as GoValue;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const quoteKey = (k: string) => (BARE_KEY.test(k) ? k : quoteString(k));

function quoteString(s: string): string {
  const escaped = s.replace(
    /[\\"\b\t\n\f\r]/g,
    (c) => ({ '\\': '\\\\', '"': '\\"', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' })[c]!,
  );
  return `"${escaped}"`;
}

const isTableArray = (v: GoValue): boolean => Array.isArray(v) && v.length > 0 && v.every(isMap);
const isSub = (v: GoValue): boolean => isMap(v) || isTableArray(v);

/**
 * TOML as BurntSushi/toml (the version Testground uses) writes it: a table's plain keys
 * first, then its tables and arrays of tables, keys sorted, nested keys indented by two
 * spaces per level, a blank line before each top-level table. Numbers without a fraction
 * are written as integers (JavaScript cannot tell `2.0` from `2`).
 */
export function encodeToml(value: GoValue): string {
  if (!isMap(value)) throw new Error('toml: top-level values must be Go maps or structs');
  let out = '';
  const write = (s: string) => (out += s);
  const newline = () => {
    if (out) write('\n');
  };
  const indent = (key: string[]) => '  '.repeat(Math.max(0, key.length - 1));
  const element = (v: GoValue): string => {
    if (typeof v === 'string') return quoteString(v);
    if (typeof v === 'number') return String(v);
    if (typeof v === 'boolean') return String(v);
    if (Array.isArray(v))
      return `[${v
        .filter((x) => x !== null && x !== NO_VALUE)
        .map(element)
        .join(', ')}]`;
    if (isMap(v)) {
      const keys = Object.keys(v)
        .sort()
        .filter((k) => v[k] !== null && v[k] !== NO_VALUE);
      return `{${keys.map((k) => `${quoteKey(k)} = ${element(v[k]!)}`).join(', ')}}`;
    }
    throw new Error('toml: cannot encode nil');
  };
  const table = (key: string[], m: GoMap) => {
    const keys = Object.keys(m)
      .sort()
      .filter((k) => m[k] !== null && m[k] !== NO_VALUE);
    for (const k of keys.filter((k) => !isSub(m[k]!))) {
      write(`${indent([...key, k])}${quoteKey(k)} = ${element(m[k]!)}`);
      newline();
    }
    for (const k of keys.filter((k) => isSub(m[k]!))) {
      const sub = [...key, k];
      const header = sub.map(quoteKey).join('.');
      const v = m[k]!;
      if (Array.isArray(v)) {
        for (const t of v as GoMap[]) {
          newline();
          write(`${indent(sub)}[[${header}]]`);
          newline();
          table(sub, t);
        }
      } else {
        if (sub.length === 1) newline();
        write(`${indent(sub)}[${header}]`);
        newline();
        table(sub, v as GoMap);
      }
    }
  };
  table([], value);
  return out;
}

/** Go's strconv.Atoi: an optional sign and decimal digits, within 64 bits. */
function atoi(s: GoValue): number {
  if (typeof s !== 'string') throw new Error(`wrong type for value; expected string; got ${typeof s}`);
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

function one(name: string, args: GoValue[], n: number): void {
  if (args.length !== n) throw new Error(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

/** Testground's template functions for a composition in `dir`, with `env` as `.Env`. */
export function testgroundFuncs(dir: string, env: GoMap): Record<string, TemplateFunc> {
  return {
    load_resource: (a) => {
      one('load_resource', a, 1);
      const rel = a[0];
      if (typeof rel !== 'string') throw new Error('wrong type for value; expected string');
      const path = join(dir, rel);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new Error(`open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : code}`);
      }
      try {
        return fromToml(TOML.parse(text));
      } catch (err) {
        throw new Error(`load_resource ${rel} failed: ${(err as Error).message.split('\n')[0]}`);
      }
    },
    pick: (a) => {
      one('pick', a, 2);
      const [m, k] = a as [GoValue, GoValue];
      if (!isMap(m) || typeof k !== 'string') throw new Error('pick wants a map and a key');
      return { [k]: Object.prototype.hasOwnProperty.call(m, k) ? m[k]! : null };
    },
    toml: (a) => (one('toml', a, 1), encodeToml(a[0]!)),
    withEnv: (a) => {
      one('withEnv', a, 1);
      const m = a[0]!;
      if (!isMap(m)) throw new Error('withEnv wants a map');
      return { ...m, Env: stringMap(env as Record<string, string>) };
    },
    split: (a) => {
      one('split', a, 1);
      if (typeof a[0] !== 'string') throw new Error('wrong type for value; expected string');
      return a[0].split(',');
    },
    atoi: (a) => (one('atoi', a, 1), atoi(a[0]!)),
  };
}
