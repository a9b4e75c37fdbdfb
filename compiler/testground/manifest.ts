import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Diagnostics } from '../diagnostics.js';
import { parseToml } from '../parse-toml.js';
import { sourceFile } from '../source.js';
import { BUILD_CONFIG, decodeComposition, type Spec } from './decode.js';
import type { TgManifest } from './types.js';

const S = { t: 'string' } as const;
const ANY: Spec = { t: 'any' };
/** Testground's `api.TestPlanManifest` (pkg/api/manifest.go): the keys the daemon reads. */
const MANIFEST: Spec = {
  t: 'table',
  keys: {
    name: S,
    builders: { t: 'map', of: BUILD_CONFIG },
    runners: { t: 'map', of: ANY },
    extra_sources: ANY,
    defaults: ANY,
    testcases: {
      t: 'array',
      of: {
        t: 'table',
        keys: {
          name: S,
          instances: { t: 'table', keys: { min: { t: 'uint' }, max: { t: 'uint' }, default: { t: 'uint' } } },
          params: {
            t: 'map',
            of: { t: 'table', keys: { type: S, desc: S, unit: S, default: ANY, options: ANY, description: ANY } },
          },
        },
      },
    },
  },
};

/** The manifest.toml beside the composition or in a parent directory, if any. */
export function findManifest(compositionPath: string): string | undefined {
  let dir = resolve(dirname(compositionPath));
  for (;;) {
    const candidate = join(dir, 'manifest.toml');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export interface LoadedManifest {
  readonly path: string;
  readonly manifest: TgManifest;
  /** Its problems, located in the manifest file. */
  readonly diagnostics: Diagnostics;
}

/** Reads and decodes a manifest; its problems are diagnostics of the manifest file. */
export function loadManifest(path: string): LoadedManifest {
  let text = '';
  const diagnostics = new Diagnostics({ name: path });
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    diagnostics.error(
      'FILE_NOT_FOUND',
      undefined,
      `the manifest cannot be read (${(err as NodeJS.ErrnoException).code})`,
    );
    return { path, manifest: {}, diagnostics };
  }
  const source = sourceFile(path, text);
  const sourced = new Diagnostics(source);
  const parsed = parseToml(source, sourced);
  if (!parsed) return { path, manifest: {}, diagnostics: sourced };
  const decoded = decodeComposition(parsed.value, parsed.positions, text, (r) => r, sourced, MANIFEST);
  return { path, manifest: decoded.value as TgManifest, diagnostics: sourced };
}
