// Go values as the template interpreter holds them: strings, numbers, booleans, nil, slices
// (arrays) and maps (plain objects), plus "no value" (what Go prints for a missing map key).
// Printing and truth follow fmt and text/template.

/** A missing map key: prints `<no value>`, is false, is nil to `eq`. */
export const NO_VALUE: unique symbol = Symbol('no value');
export type GoValue = string | number | boolean | null | typeof NO_VALUE | GoValue[] | { [k: string]: GoValue };
export type GoMap = { [k: string]: GoValue };

/** Maps whose element type is string (the environment): `index` of a missing key gives "", not nil. */
const stringMaps = new WeakSet<object>();
export function stringMap(m: Record<string, string>): GoMap {
  const copy: GoMap = { ...m };
  stringMaps.add(copy);
  return copy;
}
export const isStringMap = (v: object): boolean => stringMaps.has(v);

export function isMap(v: GoValue): v is GoMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** fmt's %v of a number: integers in decimal, others in the shortest form (`1.5`, `1e+21`). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const s = String(n);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** How text/template prints a value (fmt.Sprint, after its nil and missing-key cases). */
export function printValue(v: GoValue): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(inner).join(' ')}]`;
  return `map[${Object.keys(v)
    .sort()
    .map((k) => `${k}:${inner(v[k]!)}`)
    .join(' ')}]`;
}

/** Inside a slice or map, fmt prints nil as `<nil>` and missing as its zero. */
function inner(v: GoValue): string {
  return v === NO_VALUE ? '<nil>' : printValue(v);
}

/** text/template's truth: false, 0, nil, "" and empty slices and maps are false. */
export function truth(v: GoValue): boolean {
  if (v === NO_VALUE || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

/** The Go type name of a value, for messages. */
export function typeName(v: GoValue): string {
  if (v === NO_VALUE || v === null) return 'interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return isStringMap(v) ? 'map[string]string' : 'map[string]interface {}';
}
