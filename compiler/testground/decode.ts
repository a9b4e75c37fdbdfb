import type { Diagnostics } from '../diagnostics.js';
import { pointer, type Positions } from '../positions.js';
import type { Range } from '../source.js';
import { DOCKERFILE_HOOKS } from '../../schema/composition.js';

// Decoding a rendered Testground composition the way BurntSushi/toml v0.4.1 fills Testground's
// structs: keys matched exactly, then case-insensitively; unknown keys ignored (tgc warns);
// strict types (an integer or boolean where a string belongs is an error, as is an integer
// literal where a float belongs).

export type Spec =
  | { readonly t: 'string' | 'bool' | 'uint' | 'int' | 'float' | 'any' }
  | { readonly t: 'table'; readonly keys: Readonly<Record<string, Spec>> }
  | { readonly t: 'array'; readonly of: Spec }
  | { readonly t: 'map'; readonly of: Spec };

const S = { t: 'string' } as const;
const PARAMS: Spec = { t: 'map', of: S };
const INSTANCES: Spec = { t: 'table', keys: { count: { t: 'uint' }, percentage: { t: 'float' } } };
const RESOURCES: Spec = { t: 'table', keys: { memory: S, cpu: S } };
const BUILD: Spec = {
  t: 'table',
  keys: {
    selectors: { t: 'array', of: S },
    dependencies: { t: 'array', of: { t: 'table', keys: { module: S, target: S, version: S } } },
  },
};
const B = { t: 'bool' } as const;
/**
 * Every builder's config keys (docker:go, docker:generic, docker:node, exec:go, and the legacy
 * ones Testground still accepts), with their Go types: a wrong type is an error, as when
 * Testground decodes build_config into the builder's struct; other keys are ignored, with a
 * warning. Names shared by builders have one type in all of them.
 */
export const BUILD_CONFIG: Spec = {
  t: 'table',
  keys: {
    enabled: B,
    module_path: S,
    exec_pkg: S,
    fresh_gomod: B,
    path: S,
    modfile: S,
    go_proxy_mode: S,
    go_proxy_url: S,
    runtime_image: S,
    build_base_image: S,
    skip_runtime_image: B,
    enable_go_build_cache: B,
    enable_cgo: B,
    bypass_cache: B,
    go_version: S,
    dockerfile_extensions: {
      t: 'table',
      keys: Object.fromEntries(DOCKERFILE_HOOKS.map((h) => [h, S])),
    },
    build_args: { t: 'map', of: S },
    base_image: S,
    push_registry: B,
    registry_type: S,
  },
};
const RUN: Spec = { t: 'table', keys: { artifact: S, test_params: PARAMS, profiles: PARAMS } };
const ANY_TABLE: Spec = { t: 'map', of: { t: 'any' } };

/** Testground's `api.Composition`, key by key (testground pkg/api/composition.go). */
export const COMPOSITION: Spec = {
  t: 'table',
  keys: {
    metadata: { t: 'table', keys: { name: S, author: S } },
    global: {
      t: 'table',
      keys: {
        plan: S,
        case: S,
        runner: S,
        builder: S,
        total_instances: { t: 'uint' },
        concurrent_builds: { t: 'int' },
        disable_metrics: { t: 'bool' },
        build_config: BUILD_CONFIG,
        build: BUILD,
        run_config: ANY_TABLE,
        run: RUN,
      },
    },
    groups: {
      t: 'array',
      of: {
        t: 'table',
        keys: {
          id: S,
          builder: S,
          build_config: BUILD_CONFIG,
          build: BUILD,
          resources: RESOURCES,
          instances: INSTANCES,
          run: RUN,
        },
      },
    },
    runs: {
      t: 'array',
      of: {
        t: 'table',
        keys: {
          id: S,
          total_instances: { t: 'uint' },
          test_params: PARAMS,
          groups: {
            t: 'array',
            of: {
              t: 'table',
              keys: {
                id: S,
                group_id: S,
                instances: INSTANCES,
                resources: RESOURCES,
                test_params: PARAMS,
                profiles: PARAMS,
              },
            },
          },
        },
      },
    },
  },
};

/** A decoded document: canonical keys, and where each canonical path was written. */
export interface Decoded {
  readonly value: Record<string, unknown>;
  /** Canonical JSON Pointer → the pointer as written (keys in their own case). */
  readonly written: ReadonlyMap<string, string>;
}

/** Go's type name of a TOML value, for messages. */
function goType(v: unknown, raw: string): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return isFloatLiteral(raw) ? 'float64' : 'int64';
  if (v instanceof Date) return 'time.Time';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

function isFloatLiteral(raw: string): boolean {
  return /[.eE]|inf|nan/.test(raw.trim());
}

/**
 * Walks `value` along `spec`, reporting into `diags` at the positions of the rendered text
 * (`toSource` maps a rendered range back to the template).
 */
export function decodeComposition(
  value: unknown,
  positions: Positions,
  rendered: string,
  toSource: (r: Range) => Range,
  diags: Diagnostics,
  spec: Spec = COMPOSITION,
): Decoded {
  const written = new Map<string, string>();
  const range = (ptr: string, want: 'key' | 'value'): Range => {
    const p = positions.get(ptr);
    return toSource((want === 'key' ? p?.key : undefined) ?? p?.value ?? { start: 0, end: 1 });
  };
  const raw = (ptr: string) => {
    const r = positions.get(ptr)?.value;
    return r ? rendered.slice(r.start, r.end) : '';
  };
  const dotted = (canon: string) =>
    canon
      .split('/')
      .filter((s) => !/^\d+$/.test(s) && s)
      .join('.');
  const bad = (ptr: string, canon: string, v: unknown, want: string, hint = '') =>
    diags.error(
      'WRONG_TYPE',
      range(ptr, 'value'),
      `${dotted(canon) || 'the document'} is ${article(goType(v, raw(ptr)))}, but Testground loads it into a Go ` +
        `${want} (toml: cannot load TOML value of type ${goType(v, raw(ptr))} into a Go ${want})${hint}`,
    );

  const walk = (v: unknown, s: Spec, ptr: string, canon: string): unknown => {
    written.set(canon, ptr);
    switch (s.t) {
      case 'any':
        return v;
      case 'string':
        if (typeof v === 'string') return v;
        bad(
          ptr,
          canon,
          v,
          'string',
          typeof v === 'number' || typeof v === 'boolean' ? `; write it quoted: "${raw(ptr).trim()}"` : '',
        );
        return undefined;
      case 'bool':
        if (typeof v === 'boolean') return v;
        bad(ptr, canon, v, 'bool');
        return undefined;
      case 'int':
      case 'uint':
        if (typeof v === 'number' && !isFloatLiteral(raw(ptr)) && (s.t === 'int' || v >= 0)) return v;
        bad(
          ptr,
          canon,
          v,
          s.t === 'uint' ? 'uint' : 'int',
          typeof v === 'number' && v < 0 ? ' (it must not be negative)' : '',
        );
        return undefined;
      case 'float':
        if (typeof v === 'number' && isFloatLiteral(raw(ptr))) return v;
        bad(ptr, canon, v, 'float64', typeof v === 'number' ? `; write it as a float: ${v}.0` : '');
        return undefined;
      case 'array':
        if (!Array.isArray(v)) {
          bad(ptr, canon, v, 'slice');
          return undefined;
        }
        return v.map((x, i) => walk(x, s.of, `${ptr}/${i}`, `${canon}/${i}`));
      case 'map':
      case 'table': {
        if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date) {
          bad(ptr, canon, v, s.t === 'map' ? 'map' : 'struct');
          return undefined;
        }
        const out: Record<string, unknown> = {};
        const entries = Object.entries(v as Record<string, unknown>);
        if (s.t === 'map') {
          for (const [k, x] of entries) out[k] = walk(x, s.of, `${ptr}${pointer([k])}`, `${canon}${pointer([k])}`);
          return out;
        }
        const names = Object.keys(s.keys);
        for (const [k, x] of entries) {
          const name = names.find((n) => n === k) ?? names.find((n) => n.toLowerCase() === k.toLowerCase());
          const here = `${ptr}${pointer([k])}`;
          if (!name) {
            diags.warning(
              'UNKNOWN_KEY',
              range(here, 'key'),
              `${[dotted(canon), k].filter(Boolean).join('.')} is not a Testground composition key: ` +
                'ignored, as Testground does',
            );
            continue;
          }
          if (name in out) continue; // an exact match was found first
          const decoded = walk(x, s.keys[name]!, here, `${canon}/${name}`);
          if (decoded !== undefined) out[name] = decoded;
        }
        return out;
      }
    }
  };
  const out = walk(value, spec, '', '');
  return { value: (out ?? {}) as Record<string, unknown>, written };
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
