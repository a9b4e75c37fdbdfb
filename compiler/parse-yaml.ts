import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
import type { Diagnostics } from './diagnostics.js';
import { tooDeepMessage, tooDeepYaml } from './nesting-depth.js';
import { pointer, type Located } from './positions.js';
import type { Parsed } from './parse-toml.js';
import type { Range, SourceFile } from './source.js';

/** Past this many alias expansions a document is refused (the "billion laughs" guard). */
const MAX_ALIASES = 1000;
/** Past this many values, counting each alias expansion, a document is refused. */
const MAX_NODES = 1_000_000;

interface WalkState {
  readonly doc: Document;
  readonly out: Map<string, Located>;
  /** The maps and sequences enclosing the node being walked, aliases followed. */
  readonly ancestors: Set<unknown>;
  budget: number;
  cycle?: Alias;
}

/**
 * YAML → value + positions. YAML 1.2 core schema, plus merge keys (`<<`) so anchors can hold
 * shared group settings; duplicate keys are errors, as in the TOML they mirror.
 */
export function parseYaml(source: SourceFile, diags: Diagnostics): Parsed | undefined {
  const deep = tooDeepYaml(source.text);
  if (deep !== undefined) {
    diags.error('TOO_DEEP', { start: deep, end: deep + 1 }, tooDeepMessage());
    return undefined;
  }
  const doc = parseDocument(source.text, {
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    keepSourceTokens: false,
  });
  for (const e of doc.errors) {
    const range = { start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) };
    if (e.code === 'DUPLICATE_KEY')
      diags.error('DUPLICATE_KEY', range, 'duplicate key: it is already defined above in this mapping');
    else diags.error('YAML_SYNTAX', range, yamlMessage(e.message));
  }
  if (doc.errors.length > 0) return undefined;
  let unresolved = false;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined) {
        unresolved = true;
        diags.error(
          'YAML_ALIAS',
          rangeOf(alias),
          `alias *${alias.source} refers to no anchor; define &${alias.source} before using it`,
        );
      }
    },
  });
  if (unresolved) return undefined;
  // A mapping or sequence as a key (`? [a, b]: x`, `{a: 1}: x`) has no JSON spelling.
  let complexKey = false;
  visit(doc, {
    Pair(_, pair) {
      if (isMap(pair.key) || isSeq(pair.key)) {
        complexKey = true;
        diags.error('YAML_SYNTAX', rangeOf(pair.key), 'a key must be a plain value, not a mapping or a list');
      }
    },
  });
  if (complexKey) return undefined;
  // The aliases' expansion, counted before anything expands them (a "billion laughs" document
  // is a few hundred bytes that expand to 10^9 values).
  const expansion = aliasExpansion(doc);
  if (expansion?.cycle) {
    diags.error(
      'YAML_ALIAS',
      rangeOf(expansion.cycle),
      `alias *${expansion.cycle.source} is used inside the node it names, which would make the plan infinite`,
    );
    return undefined;
  }
  const bomb = expansion?.bomb;
  if (bomb) {
    diags.error(
      'YAML_ALIAS',
      rangeOf(bomb.alias),
      `alias *${bomb.alias.source} expands to ${bomb.size.toLocaleString('en-US')} values, and the document ` +
        `to more than ${MAX_NODES.toLocaleString('en-US')}: write the data out, or use fewer aliases of aliases`,
    );
    return undefined;
  }
  // The value first: toJS refuses documents with too many alias uses at once, where the
  // positions' walk would visit every expanded value first.
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    diags.error('YAML_ALIAS', { start: 0, end: 1 }, `cannot expand the document's aliases: ${(err as Error).message}`);
    return undefined;
  }
  // The walk also finds the cycles merge keys make (`<<: *self`).
  const positions = new Map<string, Located>();
  const state: WalkState = { doc, out: positions, ancestors: new Set(), budget: MAX_NODES };
  if (doc.contents) walk(doc.contents, [], undefined, state);
  if (state.cycle) {
    diags.error(
      'YAML_ALIAS',
      rangeOf(state.cycle),
      `alias *${state.cycle.source} is used inside the node it names, which would make the plan infinite`,
    );
    return undefined;
  }
  return { value, positions };
}

/**
 * How many values the document has once its aliases are expanded, counted over the node graph
 * (each anchored node's size once): the alias that expands most when the whole is over
 * `MAX_NODES`. Anchors are taken in document order, as an alias names the last one before it.
 */
function aliasExpansion(doc: Document): { cycle?: Alias; bomb?: { alias: Alias; size: number } } | undefined {
  const anchors = new Map<string, unknown>();
  const targets = new Map<Alias, unknown>();
  visit(doc, {
    Node(_, node) {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  if (targets.size === 0) return undefined;
  const sizes = new Map<unknown, number>();
  const open = new Set<unknown>();
  let cycle: Alias | undefined;
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node);
      if (open.has(target)) cycle ??= node;
      node = target;
    }
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, 1); // inside a cycle, counted once
    open.add(node);
    let n = 1;
    if (isMap(node)) for (const pair of node.items) n += size(pair.key) + size(pair.value);
    else if (isSeq(node)) for (const item of node.items) n += size(item);
    open.delete(node);
    sizes.set(node, n);
    return n;
  };
  const total = size(doc.contents);
  if (cycle) return { cycle };
  if (total <= MAX_NODES) return undefined;
  let worst: { alias: Alias; size: number } | undefined;
  for (const alias of targets.keys()) {
    const n = size(alias);
    if (!worst || n > worst.size) worst = { alias, size: n };
  }
  return worst && { bomb: worst };
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
function walk(node: unknown, path: (string | number)[], key: Range | undefined, state: WalkState): void {
  if (!node || typeof node !== 'object' || state.cycle || --state.budget < 0) return;
  const { doc, out, ancestors } = state;
  const p = pointer(path);
  if (!out.has(p)) out.set(p, key ? { key, value: rangeOf(node as Node) } : { value: rangeOf(node as Node) });
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (isAlias(node) && ancestors.has(target)) {
    state.cycle = node;
    return;
  }
  if (!isMap(target) && !isSeq(target)) return;
  ancestors.add(target);
  if (isMap(target)) {
    const merges: unknown[] = [];
    for (const pair of target.items) {
      const name = keyName(pair.key);
      if (name === undefined) {
        if (isScalar(pair.key) && typeof pair.key.value === 'symbol') merges.push(pair.value);
        continue;
      }
      walk(pair.value, [...path, name], rangeOf(pair.key as Node), state);
    }
    for (const m of merges) {
      if (isAlias(m) && ancestors.has(m.resolve(doc))) {
        state.cycle = m;
        break;
      }
      const resolved = isAlias(m) ? m.resolve(doc) : m;
      const sources = isSeq(resolved) ? resolved.items : [m];
      for (const s of sources) {
        const src = isAlias(s) ? s.resolve(doc) : s;
        if (!isMap(src)) continue;
        if (ancestors.has(src)) {
          state.cycle = s as Alias;
          break;
        }
        for (const pair of src.items) {
          const name = keyName(pair.key);
          if (name !== undefined && !out.has(pointer([...path, name])))
            walk(pair.value, [...path, name], rangeOf(pair.key as Node), state);
        }
      }
    }
  } else {
    target.items.forEach((item, i) => walk(item, [...path, i], undefined, state));
  }
  ancestors.delete(target);
}
