import type { Format } from './read-plan.js';

/** `/groups/0/network/latency` → `groups[0].network.latency`, the way users name a key. */
export function describePath(path: string): string {
  if (path === '') return 'the plan';
  let out = '';
  for (const raw of path.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^[0-9]+$/.test(seg)) out += `[${seg}]`;
    else out += (out ? '.' : '') + (/^[A-Za-z0-9_-]+$/.test(seg) ? seg : JSON.stringify(seg));
  }
  return out;
}

/** JSON types in each format's own words. */
export function typeName(type: string, format: Format): string {
  if (type === 'object') return format === 'toml' ? 'table' : 'mapping';
  if (type === 'array') return format === 'toml' ? 'array' : 'list';
  if (type === 'null') return 'null';
  return type;
}

export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
