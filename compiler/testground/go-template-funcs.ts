import {
  formatNumber,
  isMap,
  isStringMap,
  NO_VALUE,
  printValue,
  truth,
  typeName,
  type GoValue,
} from './go-template-values.js';

/** A template function: evaluated arguments in, a value out; throws Error with Go's message. */
export type TemplateFunc = (args: GoValue[]) => GoValue;

function arity(name: string, args: GoValue[], want: number): void {
  if (args.length !== want) throw new Error(`wrong number of args for ${name}: want ${want} got ${args.length}`);
}

function basic(v: GoValue): 'string' | 'number' | 'bool' | 'nil' | 'other' {
  if (v === null || v === NO_VALUE) return 'nil';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return 'other';
}

/** Go's eq: arg1 equals any of the others; different basic kinds are an error unless one is nil. */
function eq(args: GoValue[]): boolean {
  if (args.length < 2) throw new Error('missing argument for comparison');
  const [a, ...rest] = args;
  const ka = basic(a!);
  return rest.some((b) => {
    const kb = basic(b);
    if (ka === 'nil' || kb === 'nil') return ka === kb;
    if (ka === 'other' || kb === 'other') throw new Error('non-comparable type');
    if (ka !== kb) throw new Error('incompatible types for comparison');
    return a === b;
  });
}

function order(name: string, args: GoValue[]): number {
  arity(name, args, 2);
  const [a, b] = args as [GoValue, GoValue];
  const ka = basic(a);
  if (ka !== basic(b)) throw new Error('incompatible types for comparison');
  if (ka !== 'string' && ka !== 'number') throw new Error('invalid type for comparison');
  return (a as number | string) < (b as number | string) ? -1 : a === b ? 0 : 1;
}

/** fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: GoValue[]): string {
  let out = '';
  args.forEach((v, i) => {
    if (i > 0 && typeof v !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += printValue(v);
  });
  return out;
}

/** fmt.Sprintf for the verbs templates use: %v %s %d %q %t %f %x %%. */
function sprintf(args: GoValue[]): string {
  const [format, ...rest] = args;
  if (typeof format !== 'string')
    throw new Error(`wrong type for value; expected string; got ${typeName(format ?? null)}`);
  let n = 0;
  const out = format.replace(
    /%([-+# 0]*)(\d*)(?:\.(\d+))?([vsdqtfxX%])/g,
    (_, _flags: string, _w: string, prec: string | undefined, verb: string) => {
      if (verb === '%') return '%';
      if (n >= rest.length) return `%!${verb}(MISSING)`;
      const v = rest[n++]!;
      switch (verb) {
        case 'd':
          return typeof v === 'number' && Number.isInteger(v) ? String(v) : `%!d(${typeName(v)}=${printValue(v)})`;
        case 'f':
          return typeof v === 'number'
            ? v.toFixed(prec === undefined ? 6 : Number(prec))
            : `%!f(${typeName(v)}=${printValue(v)})`;
        case 'q':
          return JSON.stringify(printValue(v));
        case 't':
          return typeof v === 'boolean' ? String(v) : `%!t(${typeName(v)}=${printValue(v)})`;
        case 'x':
        case 'X': {
          const s = typeof v === 'number' ? v.toString(16) : Buffer.from(printValue(v)).toString('hex');
          return verb === 'X' ? s.toUpperCase() : s;
        }
        default:
          return typeof v === 'number' ? formatNumber(v) : printValue(v);
      }
    },
  );
  return n < rest.length
    ? `${out}%!(EXTRA ${rest
        .slice(n)
        .map((v) => `${typeName(v)}=${printValue(v)}`)
        .join(', ')})`
    : out;
}

function index(args: GoValue[]): GoValue {
  if (args.length === 0) throw new Error('wrong number of args for index: want at least 1 got 0');
  let v: GoValue = args[0]!;
  for (const k of args.slice(1)) {
    if (Array.isArray(v)) {
      if (typeof k !== 'number' || !Number.isInteger(k))
        throw new Error(`cannot index slice/array with type ${typeName(k)}`);
      if (k < 0 || k >= v.length) throw new Error(`index out of range: ${k}`);
      v = v[k]!;
    } else if (isMap(v)) {
      if (typeof k !== 'string') throw new Error(`value has type ${typeName(k)}; should be string`);
      // A missing key gives the element type's zero value: "" for the environment, nil otherwise.
      v = Object.prototype.hasOwnProperty.call(v, k) ? v[k]! : isStringMap(v) ? '' : null;
    } else if (typeof v === 'string') {
      if (typeof k !== 'number' || k < 0 || k >= Buffer.byteLength(v))
        throw new Error(`index out of range: ${printValue(k)}`);
      v = Buffer.from(v)[k]!;
    } else if (v === null || v === NO_VALUE) throw new Error('index of untyped nil');
    else throw new Error(`can't index item of type ${typeName(v)}`);
  }
  return v;
}

function len(args: GoValue[]): number {
  arity('len', args, 1);
  const v = args[0]!;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new Error(`len of type ${typeName(v)}`);
}

/** text/template's predefined functions (those a composition can use; no html/js escaping). */
export const BUILTINS: Readonly<Record<string, TemplateFunc>> = {
  and: () => null, // evaluated lazily by the executor
  or: () => null,
  not: (a) => (arity('not', a, 1), !truth(a[0]!)),
  eq: (a) => eq(a),
  ne: (a) => (arity('ne', a, 2), !eq(a)),
  lt: (a) => order('lt', a) < 0,
  le: (a) => order('le', a) <= 0,
  gt: (a) => order('gt', a) > 0,
  ge: (a) => order('ge', a) >= 0,
  index,
  len,
  print: sprint,
  printf: sprintf,
  println: (a) => a.map(printValue).join(' ') + '\n',
};
