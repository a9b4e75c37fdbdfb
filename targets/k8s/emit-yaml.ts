/**
 * YAML for manifests made of plain data (objects, arrays, strings, numbers, booleans), in
 * one fixed style: block mappings and sequences, strings plain when that cannot be misread,
 * else double-quoted (JSON escapes are YAML escapes), multi-line text as `|` block scalars.
 * Keys keep their insertion order. The `yaml` package can do all of this and more; this does
 * only this, about twenty times faster, which is what keeps `tgc compile` of a 100-group plan
 * near Node's own start-up time (bench/compile).
 */
export function emitYaml(value: unknown): string {
  const out: string[] = [];
  emitValue(value, 0, out, true);
  return out.join('');
}

// Plain scalars: start with a letter, digit, `/` or `.`, continue with a safe set, and are not
// something YAML 1.1 or 1.2 would read as another type (numbers, booleans, null, dates).
const PLAIN = /^[A-Za-z0-9./][A-Za-z0-9_./@+=,()[\]$':-]*(?: [A-Za-z0-9_./@+=,()[\]$':-]+)*$/;
const OTHER_TYPE = new RegExp(
  '^(?:' +
    [
      '[-+]?[0-9][0-9_.:eE+-]*', // numbers, times, dates
      '[-+]?\\.(?:inf|Inf|INF)',
      '\\.(?:nan|NaN|NAN)',
      'y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF',
      'null|Null|NULL|~',
      '0x[0-9a-fA-F]+|0o[0-7]+',
    ].join('|') +
    ')$',
);

function scalar(s: string): string {
  if (PLAIN.test(s) && !OTHER_TYPE.test(s) && !s.includes(': ') && !s.endsWith(':') && !s.includes(' #')) return s;
  // JSON's escapes are YAML's; YAML also wants DEL and the C1 controls escaped.
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Multi-line text goes in a `|` (or `|-`) block scalar when that holds it exactly: printable,
 * no line-leading space before the first text, no spaces before a line break, at most one
 * trailing line break. Anything else is double-quoted.
 */
function blockable(s: string): boolean {
  return (
    /\n./.test(s) &&
    !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(s) &&
    !/^\n*[ \t]/.test(s) &&
    !/[ \t]\n/.test(s) &&
    !/\n\n$/.test(s) &&
    !/[ \t]$/.test(s)
  );
}

function block(s: string, indent: number): string {
  const pad = ' '.repeat(indent);
  const keep = s.endsWith('\n');
  const body = (keep ? s.slice(0, -1) : s)
    .split('\n')
    .map((l) => (l === '' ? '' : pad + l))
    .join('\n');
  return `|${keep ? '' : '-'}\n${body}\n`;
}

function isEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

function inline(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return scalar(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[]';
  return '{}';
}

function emitValue(v: unknown, indent: number, out: string[], top = false): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v) && v.length > 0) {
    if (!top) out.push('\n');
    for (const item of v) {
      out.push(`${pad}- `);
      if (item !== null && typeof item === 'object' && !isEmpty(item)) {
        if (Array.isArray(item)) emitValue(item, indent + 2, out);
        else emitEntries(item as Record<string, unknown>, indent + 2, out, true);
      } else {
        emitLeaf(item, indent + 2, out);
      }
    }
    return;
  }
  if (v !== null && typeof v === 'object' && !isEmpty(v)) {
    if (!top) out.push('\n');
    emitEntries(v as Record<string, unknown>, indent, out, top);
    return;
  }
  if (!top) out.push(' ');
  emitLeaf(v, indent, out);
}

function emitLeaf(v: unknown, indent: number, out: string[]): void {
  if (typeof v === 'string' && blockable(v)) out.push(block(v, indent));
  else out.push(inline(v) + '\n');
}

/** Entries of a mapping; the first sits after a `- ` already written when `first` says so. */
function emitEntries(o: Record<string, unknown>, indent: number, out: string[], firstInline = false): void {
  const pad = ' '.repeat(indent);
  let first = true;
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out.push(`${first && firstInline ? '' : pad}${scalar(k)}:`);
    first = false;
    emitValue(v, indent + 2, out);
  }
}
