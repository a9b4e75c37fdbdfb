// How deep a document nests, read from its text before any parser sees it: the parsers (and
// every later phase) recurse once per level, so a plan nested thousands deep would overflow the
// stack. Found here, it is a located error instead.

/** Deeper than any plan needs; far below what overflows the stack. */
export const MAX_DEPTH = 100;

export function tooDeepMessage(): string {
  return (
    `nested more than ${MAX_DEPTH} levels deep here, deeper than any plan needs: flatten it (or keep deep ` +
    'data in a file the program reads)'
  );
}

/** Where the text first nests deeper than `MAX_DEPTH`: the offset of the opening bracket or line. */
export function tooDeepToml(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '#') {
      i = lineEnd(text, i);
    } else if (c === '"' || c === "'") {
      i = tomlStringEnd(text, i);
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

function lineEnd(text: string, i: number): number {
  const n = text.indexOf('\n', i);
  return n < 0 ? text.length : n;
}

/** The index of the quote that closes the TOML string opening at `i` (basic, literal, multi-line). */
function tomlStringEnd(text: string, i: number): number {
  const q = text[i]!;
  const triple = text.startsWith(q.repeat(3), i);
  const close = triple ? q.repeat(3) : q;
  for (let j = i + close.length; j < text.length; j++) {
    if (q === '"' && text[j] === '\\') j++;
    else if (!triple && text[j] === '\n') return j;
    else if (text.startsWith(close, j)) return j + close.length - 1;
  }
  return text.length;
}

/**
 * YAML: flow collections (`[`, `{`) outside quoted scalars and comments, plus block nesting —
 * each line deeper than the ones it is inside, and each `- ` that opens a sequence on a line.
 * Block scalars (`|`, `>`) are text, not nesting.
 */
export function tooDeepYaml(text: string): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let scalarIndent = -1;
  let offset = 0;
  for (const line of text.split('\n')) {
    const start = offset;
    offset += line.length + 1;
    const indent = line.length - line.trimStart().length;
    const body = line.trimStart();
    if (scalarIndent >= 0) {
      if (body === '' || indent > scalarIndent) continue;
      scalarIndent = -1;
    }
    if (body === '' || body.startsWith('#')) continue;
    // Lines indented deeper and deeper nest the parser's work even inside a flow collection.
    while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
    indents.push(indent);
    const dashes = flow === 0 ? /^(?:-[ \t]+)*/.exec(body)![0].split('-').length - 1 : 0;
    if (indents.length + dashes + flow > MAX_DEPTH) return start + indent;
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c === '#' && (i === 0 || /\s/.test(body[i - 1]!))) break;
      if (c === '"' || c === "'") i = yamlQuotedEnd(body, i);
      else if (c === '[' || c === '{') {
        if (++flow + indents.length > MAX_DEPTH) return start + indent + i;
      } else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
    }
    // A block scalar's lines are text: skip what is indented under it.
    if (flow === 0 && /(?:^|[:\-]\s+)[|>][-+0-9]*\s*(?:#.*)?$/.test(body)) scalarIndent = indent;
  }
  return undefined;
}

function yamlQuotedEnd(body: string, i: number): number {
  const q = body[i];
  for (let j = i + 1; j < body.length; j++) {
    if (q === '"' && body[j] === '\\') j++;
    else if (body[j] === q) {
      if (q === "'" && body[j + 1] === "'") j++;
      else return j;
    }
  }
  // A quoted scalar may go on over lines; what follows on this line is inside it.
  return body.length;
}
