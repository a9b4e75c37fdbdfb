// A parser for the part of Go's text/template that Testground compositions use: text and
// actions with trim markers, comments, pipelines, variables, if/else if/else, range (with
// else, break, continue), with (with else), define/template/block. Go's grammar and
// messages are the reference (pkg.go.dev/text/template); positions are offsets into the text.

/** Thrown for a template that does not parse or fails to execute: the offset and Go's kind of message. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export type Arg =
  | { kind: 'field'; at: number; base: Arg | null; names: string[] } // `.A.B` (base null: dot), `$x.A`, `(p).A`
  | { kind: 'dot'; at: number }
  | { kind: 'var'; at: number; name: string } // `$` or `$name`
  | { kind: 'ident'; at: number; name: string } // a function name
  | { kind: 'string'; at: number; value: string }
  | { kind: 'number'; at: number; value: number; text: string }
  | { kind: 'bool'; at: number; value: boolean }
  | { kind: 'nil'; at: number }
  | { kind: 'pipe'; at: number; pipe: Pipeline };

export interface Command {
  readonly at: number;
  readonly args: Arg[];
}
export interface Pipeline {
  readonly at: number;
  /** `$x := …` (declare) or `$x = …` (assign); range may declare two. */
  readonly vars: string[];
  readonly assign: boolean;
  readonly cmds: Command[];
}

export type Node =
  | { kind: 'text'; at: number; text: string }
  | { kind: 'action'; at: number; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; at: number; pipe: Pipeline; list: Node[]; elseList: Node[] | null }
  | { kind: 'template'; at: number; name: string; pipe: Pipeline | null }
  | { kind: 'break' | 'continue'; at: number };

export interface Parsed {
  readonly root: Node[];
  readonly defines: Map<string, Node[]>;
}

type Tok = { t: string; v: string; at: number; end?: number };

const SPACE = /[ \t\r\n]/;

/** Splits an action's inside into tokens. */
function lexAction(src: string, from: number, to: number): Tok[] {
  const toks: Tok[] = [];
  let i = from;
  for (;;) {
    // Each token ends where the next scan starts.
    const last = toks[toks.length - 1];
    if (last && last.end === undefined) last.end = i;
    if (i >= to) break;
    const c = src[i]!;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '"') {
      let j = i + 1;
      while (j < to && src[j] !== '"') {
        if (src[j] === '\n') throw new TemplateError('unterminated quoted string', at);
        j += src[j] === '\\' ? 2 : 1;
      }
      if (j >= to) throw new TemplateError('unterminated quoted string', at);
      toks.push({ t: 'string', v: unquote(src.slice(i + 1, j), at), at });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0 || j >= to) throw new TemplateError('unterminated raw quoted string', at);
      toks.push({ t: 'string', v: src.slice(i + 1, j), at });
      i = j + 1;
    } else if (c === "'") {
      const m = /^'(\\.|[^'\\])'/.exec(src.slice(i, to));
      if (!m) throw new TemplateError('unterminated character constant', at);
      const ch = unquote(m[1]!, at);
      toks.push({ t: 'number', v: String(ch.codePointAt(0)), at });
      i += m[0].length;
    } else if (c === ':' && src[i + 1] === '=') {
      toks.push({ t: ':=', v: ':=', at });
      i += 2;
    } else if ('=|(),'.includes(c)) {
      toks.push({ t: c, v: c, at });
      i++;
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i, to))!;
      toks.push({ t: 'var', v: m[0], at });
      i += m[0].length;
    } else if (c === '.') {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, to));
      if (m) {
        toks.push({ t: 'field', v: m[0].slice(1), at });
        i += m[0].length;
      } else if (/[0-9]/.test(src[i + 1] ?? '')) {
        i = lexNumber(src, i, to, toks);
      } else {
        toks.push({ t: 'dot', v: '.', at });
        i++;
      }
    } else if (/[0-9+-]/.test(c)) {
      i = lexNumber(src, i, to, toks);
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, to))!;
      toks.push({ t: 'ident', v: m[0], at });
      i += m[0].length;
    } else {
      throw new TemplateError(`unexpected ${JSON.stringify(c)} in command`, at);
    }
  }
  return toks;
}

function lexNumber(src: string, i: number, to: number, toks: Tok[]): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(
    src.slice(i, to),
  );
  const text = m?.[0] ?? '';
  if (!text || text === '+' || text === '-' || /[A-Za-z0-9_.]/.test(src[i + text.length] ?? ' ')) {
    throw new TemplateError(`bad number syntax: ${JSON.stringify(src.slice(i, to).split(/[\s)|]/)[0])}`, i);
  }
  const clean = text.replace(/_/g, '');
  const value = /^[+-]?0[oO]/.test(clean)
    ? parseInt(clean.replace(/0[oO]/, ''), 8) * (clean.startsWith('-') ? -1 : 1)
    : /^[+-]?0[bB]/.test(clean)
      ? parseInt(clean.replace(/0[bB]/, ''), 2) * (clean.startsWith('-') ? -1 : 1)
      : Number(clean);
  toks.push({ t: 'number', v: String(value), at: i });
  return i + text.length;
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

function unquote(s: string, at: number): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_, e: string) => {
    if (e[0] === 'x' || e[0] === 'u' || e[0] === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]{3}$/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    const r = ESCAPES[e];
    if (r === undefined) throw new TemplateError('invalid syntax in quoted string', at);
    return r;
  });
}

/** Parses a whole template. */
export function parseTemplate(src: string): Parsed {
  const defines = new Map<string, Node[]>();
  // Split into text and actions, applying trim markers.
  type Piece = { text: string; at: number } | { action: Tok[]; at: number; end: number };
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    let textAt = i;
    if (trimNext) {
      const trimmed = text.replace(/^[ \t\r\n]+/, '');
      textAt += text.length - trimmed.length;
      text = trimmed;
    }
    if (open < 0) {
      if (text) pieces.push({ text, at: textAt });
      break;
    }
    let inner = open + 2;
    if (src[inner] === '-' && SPACE.test(src[inner + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      inner += 2;
    }
    if (text) pieces.push({ text, at: textAt });
    // A comment: `{{/* … */}}`, with optional trim markers around it.
    const afterSpace = inner + (src.slice(inner).match(/^[ \t\r\n]*/)?.[0].length ?? 0);
    let close: number;
    if (src.startsWith('/*', afterSpace)) {
      const endComment = src.indexOf('*/', afterSpace + 2);
      if (endComment < 0) throw new TemplateError('unclosed comment', open);
      const rest = src.slice(endComment + 2);
      const m = /^( -)?\}\}/.exec(rest.replace(/^[ \t\r\n]*(?= -\}\})/, ''));
      const skipped = rest.length - rest.replace(/^[ \t\r\n]*(?= -\}\})/, '').length;
      if (!m) throw new TemplateError('comment ends before closing delimiter', open);
      trimNext = Boolean(m[1]);
      i = endComment + 2 + skipped + m[0].length;
      continue;
    }
    close = findClose(src, inner, open);
    let end = close;
    trimNext = false;
    if (src[close - 1] === '-' && SPACE.test(src[close - 2] ?? '')) {
      trimNext = true;
      end = close - 2;
    }
    pieces.push({ action: lexAction(src, inner, end), at: open, end: close + 2 });
    i = close + 2;
  }

  let k = 0;
  const parseList = (terminators: string[]): { list: Node[]; ended: string; at: number; toks: Tok[] } => {
    const list: Node[] = [];
    while (k < pieces.length) {
      const p = pieces[k++]!;
      if ('text' in p) {
        list.push({ kind: 'text', at: p.at, text: p.text });
        continue;
      }
      const toks = p.action;
      if (toks.length === 0) throw new TemplateError('missing value for command', p.at);
      const head = toks[0]!;
      const word = head.t === 'ident' ? head.v : '';
      if (word === 'end' || word === 'else') {
        if (!terminators.includes(word)) throw new TemplateError(`unexpected {{${word}}}`, p.at);
        return { list, ended: word, at: p.at, toks: toks.slice(1) };
      }
      if (word === 'if' || word === 'with' || word === 'range') list.push(parseControl(word, toks.slice(1), p.at));
      else if (word === 'define' || word === 'block') {
        const nameTok = toks[1];
        if (nameTok?.t !== 'string') throw new TemplateError(`unexpected name in ${word} clause`, p.at);
        const body = parseList(['end']);
        if (body.ended !== 'end') throw new TemplateError(`unexpected EOF in ${word}`, p.at);
        defines.set(nameTok.v, body.list);
        if (word === 'block')
          list.push({ kind: 'template', at: p.at, name: nameTok.v, pipe: parsePipe(toks.slice(2), p.at, false) });
      } else if (word === 'template') {
        const nameTok = toks[1];
        if (nameTok?.t !== 'string') throw new TemplateError('unexpected name in template clause', p.at);
        const rest = toks.slice(2);
        list.push({
          kind: 'template',
          at: p.at,
          name: nameTok.v,
          pipe: rest.length ? parsePipe(rest, p.at, false) : null,
        });
      } else if (word === 'break' || word === 'continue') {
        list.push({ kind: word, at: p.at });
      } else list.push({ kind: 'action', at: p.at, pipe: parsePipe(toks, p.at, false) });
    }
    if (terminators.length) throw new TemplateError('unexpected EOF', src.length);
    return { list, ended: '', at: src.length, toks: [] };
  };

  const parseControl = (word: 'if' | 'with' | 'range', toks: Tok[], at: number): Node => {
    const pipe = parsePipe(toks, at, word === 'range');
    const body = parseList(['end', 'else']);
    let elseList: Node[] | null = null;
    if (body.ended === 'else') {
      const chained = body.toks[0];
      if (chained?.t === 'ident' && (chained.v === 'if' || chained.v === 'with')) {
        // `{{else if …}}` is an if nested in the else branch, closed by the same `{{end}}`.
        elseList = [parseControl(chained.v, body.toks.slice(1), body.at)];
      } else {
        if (body.toks.length) throw new TemplateError('unexpected tokens after else', body.at);
        const rest = parseList(['end']);
        elseList = rest.list;
      }
    }
    return { kind: word, at, pipe, list: body.list, elseList };
  };

  const root = parseList([]).list;
  return { root, defines };
}

function findClose(src: string, from: number, open: number): number {
  let j = from;
  while (j < src.length) {
    const c = src[j]!;
    if (c === '"' || c === '`') {
      const q = c;
      j++;
      while (j < src.length && src[j] !== q) j += q === '"' && src[j] === '\\' ? 2 : 1;
      j++;
      continue;
    }
    if (c === '}' && src[j + 1] === '}') return j;
    j++;
  }
  throw new TemplateError('unclosed action', open);
}

function parsePipe(toks: Tok[], at: number, rangeDecl: boolean): Pipeline {
  let pos = 0;
  const vars: string[] = [];
  let assign = false;
  // Declarations: `$x :=`, `$x =`, and for range `$i, $e :=`.
  const declEnd = toks.findIndex((t) => t.t === ':=' || t.t === '=');
  if (declEnd > 0 && toks.slice(0, declEnd).every((t, n) => (n % 2 === 0 ? t.t === 'var' : t.t === ','))) {
    for (let n = 0; n < declEnd; n += 2) vars.push(toks[n]!.v);
    if (vars.length > (rangeDecl ? 2 : 1)) throw new TemplateError('too many declarations', at);
    assign = toks[declEnd]!.t === '=';
    pos = declEnd + 1;
  }
  const cmds: Command[] = [];
  let cur: Arg[] = [];
  let cmdAt = toks[pos]?.at ?? at;
  const parseOperand = (): Arg => {
    const t = toks[pos++]!;
    let arg: Arg;
    switch (t.t) {
      case 'field':
        arg = { kind: 'field', at: t.at, base: null, names: [t.v] };
        break;
      case 'dot':
        arg = { kind: 'dot', at: t.at };
        break;
      case 'var':
        arg = { kind: 'var', at: t.at, name: t.v };
        break;
      case 'string':
        arg = { kind: 'string', at: t.at, value: t.v };
        break;
      case 'number':
        arg = { kind: 'number', at: t.at, value: Number(t.v), text: t.v };
        break;
      case 'ident':
        if (t.v === 'true' || t.v === 'false') arg = { kind: 'bool', at: t.at, value: t.v === 'true' };
        else if (t.v === 'nil') arg = { kind: 'nil', at: t.at };
        else arg = { kind: 'ident', at: t.at, name: t.v };
        break;
      case '(': {
        let depth = 1;
        const start = pos;
        while (pos < toks.length && depth > 0) {
          if (toks[pos]!.t === '(') depth++;
          else if (toks[pos]!.t === ')') depth--;
          pos++;
        }
        if (depth > 0) throw new TemplateError('unclosed left paren', t.at);
        arg = { kind: 'pipe', at: t.at, pipe: parsePipe(toks.slice(start, pos - 1), t.at, false) };
        break;
      }
      default:
        throw new TemplateError(`unexpected ${JSON.stringify(t.v)} in operand`, t.at);
    }
    // Field chains after a variable or a parenthesised pipeline: `$x.A.B`, `(…).A`.
    while (toks[pos]?.t === 'field' && toks[pos]!.at === toks[pos - 1]!.end) {
      const f = toks[pos++]!;
      if (arg.kind === 'field') arg.names.push(f.v);
      else arg = { kind: 'field', at: arg.at, base: arg, names: [f.v] };
    }
    return arg;
  };
  while (pos < toks.length) {
    const t = toks[pos]!;
    if (t.t === '|') {
      if (!cur.length) throw new TemplateError('missing command', t.at);
      cmds.push({ at: cmdAt, args: cur });
      cur = [];
      pos++;
      cmdAt = toks[pos]?.at ?? t.at;
      continue;
    }
    if (t.t === ')' || t.t === ',' || t.t === ':=' || t.t === '=')
      throw new TemplateError(`unexpected ${JSON.stringify(t.v)} in command`, t.at);
    cur.push(parseOperand());
  }
  if (!cur.length) throw new TemplateError(cmds.length ? 'missing command' : 'missing value for command', at);
  cmds.push({ at: cmdAt, args: cur });
  return { at, vars, assign, cmds };
}
