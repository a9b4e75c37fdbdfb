import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type ParsedNode } from 'yaml';
import type { Diagnostics } from './diagnostics.js';
import { pointer, type Located } from './positions.js';
import type { Parsed } from './parse-toml.js';
import type { Range, SourceFile } from './source.js';

/** Past this many alias expansions a document is refused (the "billion laughs" guard). */
const MAX_ALIASES = 1000;

/**
 * YAML → value + positions. YAML 1.2 core schema, plus merge keys (`<<`) so anchors can hold
 * shared group settings; duplicate keys are errors, as in the TOML they mirror.
 */
export function parseYaml(source: SourceFile, diags: Diagnostics): Parsed | undefined {
  const doc = parseDocument(source.text, { merge: true, uniqueKeys: true, prettyErrors: false, keepSourceTokens: false });
  for (const e of doc.errors) {
    const range = { start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) };
    if (e.code === 'DUPLICATE_KEY') diags.error('DUPLICATE_KEY', range, 'duplicate key: it is already defined above in this mapping');
    else diags.error('YAML_SYNTAX', range, yamlMessage(e.message));
  }
  if (doc.errors.length > 0) return undefined;
  let unresolved = false;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined) {
        unresolved = true;
        diags.error('YAML_ALIAS', rangeOf(alias), `alias *${alias.source} refers to no anchor; define &${alias.source} before using it`);
      }
    },
  });
  if (unresolved) return undefined;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    diags.error('YAML_ALIAS', { start: 0, end: 1 }, `cannot expand the document's aliases: ${(err as Error).message}`);
    return undefined;
  }
  const positions = new Map<string, Located>();
  if (doc.contents) walk(doc, doc.contents, [], undefined, positions);
  return { value, positions };
}

function yamlMessage(message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function rangeOf(node: Node): Range {
  const r = node.range ?? [0, 1];
  return { start: r[0], end: Math.max(r[1], r[0] + 1) };
}

function keyName(key: unknown): string | undefined {
  if (isScalar(key)) return typeof key.value === 'symbol' ? undefined : String(key.value);
  return undefined;
}

/**
 * Records positions under the pointers `toJS` gives values. Aliases are followed (their
 * children point into the anchor's text); merge keys add the merged entries an explicit key
 * did not set, earlier sources first, as YAML's merge rule says.
 */
function walk(doc: Document, node: unknown, path: (string | number)[], key: Range | undefined, out: Map<string, Located>): void {
  if (!node || typeof node !== 'object') return;
  const p = pointer(path);
  const own = rangeOf(node as Node);
  if (!out.has(p)) out.set(p, key ? { key, value: own } : { value: own });
  const target = isAlias(node) ? (node.resolve(doc) as ParsedNode | undefined) : node;
  if (isMap(target)) {
    const merges: unknown[] = [];
    for (const pair of target.items) {
      const name = keyName(pair.key);
      if (name === undefined) {
        if (isScalar(pair.key) && typeof pair.key.value === 'symbol') merges.push(pair.value);
        continue;
      }
      walk(doc, pair.value, [...path, name], rangeOf(pair.key as Node), out);
    }
    for (const m of merges) {
      const resolved = isAlias(m) ? m.resolve(doc) : m;
      const sources = isSeq(resolved) ? resolved.items : [m];
      for (const s of sources) {
        const src = isAlias(s) ? s.resolve(doc) : s;
        if (!isMap(src)) continue;
        for (const pair of src.items) {
          const name = keyName(pair.key);
          if (name !== undefined && !out.has(pointer([...path, name]))) walk(doc, pair.value, [...path, name], rangeOf(pair.key as Node), out);
        }
      }
    }
  } else if (isSeq(target)) {
    target.items.forEach((item, i) => walk(doc, item, [...path, i], undefined, out));
  }
}
