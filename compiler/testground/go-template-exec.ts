import { parseTemplate, TemplateError, type Arg, type Command, type Node, type Pipeline } from './go-template-parse.js';
import { isMap, NO_VALUE, printValue, truth, typeName, type GoValue } from './go-template-values.js';
import { BUILTINS, type TemplateFunc } from './go-template-funcs.js';

/** One piece of output and where it came from: text copied from `src`, or an action's result. */
export interface Segment {
  readonly out: number;
  readonly src: number;
  readonly length: number;
  /** Text copied as it is (offsets map one to one); false for what an action printed. */
  readonly copied: boolean;
}

export interface Rendered {
  readonly text: string;
  readonly segments: readonly Segment[];
}

class Break {}
class Continue {}

/** Actions executed at most (range over a huge number, recursion through `template`): a template cannot hang. */
const MAX_STEPS = 1_000_000;
const MAX_OUTPUT = 10 * 1024 * 1024;

/**
 * Renders a Go text/template with `data` as dot and `$`, the built-in functions plus
 * `funcs`. Throws TemplateError (with the offset of the action at fault) as Go would fail.
 */
export function renderTemplate(
  src: string,
  data: GoValue,
  funcs: Readonly<Record<string, TemplateFunc>> = {},
): Rendered {
  const { root, defines } = parseTemplate(src);
  const all = { ...BUILTINS, ...funcs };
  let out = '';
  const segments: Segment[] = [];
  let steps = 0;
  let depth = 0;

  const emit = (text: string, srcAt: number, copied: boolean) => {
    if (!text) return;
    segments.push({ out: out.length, src: srcAt, length: text.length, copied });
    out += text;
    if (out.length > MAX_OUTPUT) throw new TemplateError('the rendered composition is larger than 10 MiB', srcAt);
  };

  type Scope = { name: string; value: GoValue }[];

  const lookupVar = (vars: Scope, name: string, at: number): GoValue => {
    for (let i = vars.length - 1; i >= 0; i--) if (vars[i]!.name === name) return vars[i]!.value;
    throw new TemplateError(`undefined variable: ${name}`, at);
  };

  const field = (base: GoValue, name: string, at: number): GoValue => {
    if (isMap(base)) return Object.prototype.hasOwnProperty.call(base, name) ? base[name]! : NO_VALUE;
    // Go: a field of "no value" is no value; a field of a nil interface is an error.
    if (base === NO_VALUE) return NO_VALUE;
    if (base === null) throw new TemplateError(`nil pointer evaluating interface {}.${name}`, at);
    throw new TemplateError(`can't evaluate field ${name} in type ${typeName(base)}`, at);
  };

  const evalArg = (a: Arg, dot: GoValue, vars: Scope): GoValue => {
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'var':
        return lookupVar(vars, a.name, a.at);
      case 'string':
        return a.value;
      case 'number':
        return a.value;
      case 'bool':
        return a.value;
      case 'nil':
        throw new TemplateError('nil is not a command', a.at);
      case 'pipe':
        return evalPipe(a.pipe, dot, vars);
      case 'ident':
        return call(a.name, [], null, dot, vars, a.at);
      case 'field': {
        let v = a.base ? evalArg(a.base, dot, vars) : dot;
        for (const name of a.names) v = field(v, name, a.at);
        return v;
      }
    }
  };

  const call = (name: string, args: Arg[], piped: GoValue | null, dot: GoValue, vars: Scope, at: number): GoValue => {
    const fn = all[name];
    if (!fn) throw new TemplateError(`function "${name}" not defined`, at);
    const extra: GoValue[] = piped === null ? [] : [piped];
    // and/or evaluate their arguments only as far as they need to (Go 1.18).
    if (name === 'and' || name === 'or') {
      const thunks = [...args.map((x) => () => evalArg(x, dot, vars)), ...extra.map((v) => () => v)];
      if (thunks.length === 0) throw new TemplateError(`wrong number of args for ${name}: want at least 1 got 0`, at);
      let v: GoValue = null;
      for (const t of thunks) {
        v = t();
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    try {
      return fn([...args.map((x) => evalArg(x, dot, vars)), ...extra]);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      throw new TemplateError(`error calling ${name}: ${(err as Error).message}`, at);
    }
  };

  const evalCommand = (c: Command, piped: GoValue | null, dot: GoValue, vars: Scope): GoValue => {
    const [first, ...rest] = c.args;
    if (first!.kind === 'ident') return call(first!.name, rest, piped, dot, vars, first!.at);
    if (rest.length || piped !== null)
      throw new TemplateError(`can't give argument to non-function ${describe(first!)}`, c.at);
    if (first!.kind === 'nil') throw new TemplateError('nil is not a command', first!.at);
    return evalArg(first!, dot, vars);
  };

  const evalPipe = (p: Pipeline, dot: GoValue, vars: Scope): GoValue => {
    let v: GoValue | null = null;
    for (const c of p.cmds) v = evalCommand(c, v, dot, vars);
    const value = v as GoValue;
    if (p.vars.length === 1 || (p.vars.length && !p.assign)) {
      const name = p.vars[p.vars.length - 1]!;
      if (p.assign) {
        const i = vars.map((x) => x.name).lastIndexOf(name);
        if (i < 0) throw new TemplateError(`undefined variable: ${name}`, p.at);
        vars[i] = { name, value };
      } else vars.push({ name, value });
    }
    return value;
  };

  const walk = (list: Node[], dot: GoValue, vars: Scope): void => {
    for (const n of list) {
      if (++steps > MAX_STEPS) throw new TemplateError('the template runs too long (over a million steps)', n.at);
      switch (n.kind) {
        case 'text':
          emit(n.text, n.at, true);
          break;
        case 'action': {
          const v = evalPipe(n.pipe, dot, vars);
          if (!n.pipe.vars.length) emit(printValue(v), n.at, false);
          break;
        }
        case 'if':
        case 'with': {
          const mark = vars.length;
          const v = evalPipe(n.pipe, dot, vars);
          if (truth(v)) walk(n.list, n.kind === 'with' ? v : dot, vars);
          else if (n.elseList) walk(n.elseList, dot, vars);
          vars.length = mark;
          break;
        }
        case 'range':
          range(n, dot, vars);
          break;
        case 'template': {
          const body = defines.get(n.name);
          if (!body) throw new TemplateError(`no such template "${n.name}"`, n.at);
          if (++depth > 100) throw new TemplateError('exceeded maximum template depth (100)', n.at);
          const v = n.pipe ? evalPipe(n.pipe, dot, vars) : NO_VALUE;
          walk(body, v, [{ name: '$', value: v }]);
          depth--;
          break;
        }
        case 'break':
          throw new Break();
        case 'continue':
          throw new Continue();
      }
    }
  };

  const range = (n: Extract<Node, { pipe: Pipeline; list: Node[] }>, dot: GoValue, vars: Scope): void => {
    const mark = vars.length;
    const pipe = { ...n.pipe, vars: [] as string[] };
    const v = evalPipe(pipe, dot, vars);
    let items: [GoValue, GoValue][];
    if (Array.isArray(v)) items = v.map((e, i) => [i, e]);
    else if (isMap(v))
      items = Object.keys(v)
        .sort()
        .map((k) => [k, v[k]!]);
    else if (typeof v === 'number' && Number.isInteger(v))
      items = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (v === null || v === NO_VALUE) items = [];
    else throw new TemplateError(`range can't iterate over ${printValue(v)}`, n.at);
    if (!items.length) {
      if (n.elseList) walk(n.elseList, dot, vars);
      return;
    }
    for (const [key, elem] of items) {
      if (n.pipe.vars.length === 1) vars.push({ name: n.pipe.vars[0]!, value: elem });
      else if (n.pipe.vars.length === 2)
        vars.push({ name: n.pipe.vars[0]!, value: key }, { name: n.pipe.vars[1]!, value: elem });
      try {
        walk(n.list, elem, vars);
      } catch (err) {
        if (err instanceof Break) {
          vars.length = mark;
          break;
        }
        if (!(err instanceof Continue)) throw err;
      }
      vars.length = mark;
    }
  };

  walk(root, data, [{ name: '$', value: data }]);
  return { text: out, segments };
}

function describe(a: Arg): string {
  switch (a.kind) {
    case 'field':
      return `.${a.names.join('.')}`;
    case 'var':
      return a.name;
    case 'string':
      return JSON.stringify(a.value);
    case 'number':
      return a.text;
    default:
      return a.kind;
  }
}

/** The offset in the template of an offset in its output (for diagnostics on the rendered text). */
export function sourceOffset(r: Rendered, out: number): number {
  let lo = 0;
  let hi = r.segments.length - 1;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (r.segments[mid]!.out <= out) lo = mid;
    else hi = mid - 1;
  }
  const s = r.segments[lo]!;
  return s.copied ? s.src + Math.min(out - s.out, s.length) : s.src;
}
