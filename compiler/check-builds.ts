import type { Diagnostics } from './diagnostics.js';
import type { locate } from './positions.js';
import { pointer } from './positions.js';

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;

/**
 * Build keys belong to a kind: a Go key on a Dockerfile build would be silently unused, so it
 * is an error at the key; and a fresh go.mod needs its module path.
 */
export function checkBuilds(
  defaults: Obj,
  groups: readonly unknown[],
  diags: Diagnostics,
  at: (path: string, want?: 'key' | 'value') => ReturnType<typeof locate>,
): void {
  const builds: [Obj, (string | number)[]][] = [[asObj(defaults.build) ?? {}, ['defaults', 'build']]];
  groups.forEach((g, i) => builds.push([asObj(asObj(g)?.build) ?? {}, ['groups', i, 'build']]));
  for (const [build, base] of builds) {
    const kind = typeof build.kind === 'string' ? build.kind : 'docker';
    for (const key of Object.keys(build)) {
      const kinds = BUILD_KEY_KINDS[key];
      if (kinds && !kinds.includes(kind)) {
        diags.error(
          'BUILD_KEY_KIND',
          at(pointer([...base, key]), 'key'),
          `build.${key} is for kind = ${kinds.map((k) => `"${k}"`).join(' or ')} builds; this one is ` +
            `kind = "${kind}": remove it, or change the kind`,
        );
      }
    }
    if (build.fresh_gomod === true && build.module_path === undefined) {
      diags.error(
        'MISSING_KEY',
        at(pointer([...base, 'fresh_gomod']), 'key'),
        'build.fresh_gomod replaces go.mod with go mod init <module_path>: set build.module_path',
      );
    }
  }
}

const GO_ONLY = ['go'];
/** The build keys that mean something for some kinds only (the rest: every kind). */
const BUILD_KEY_KINDS: Readonly<Record<string, readonly string[]>> = {
  dockerfile: ['docker'],
  context_prefix: ['docker'],
  base_image: ['go', 'node'],
  ...Object.fromEntries(
    [
      'runtime_image',
      'skip_runtime_image',
      'path',
      'exec_pkg',
      'modfile',
      'enable_cgo',
      'go_proxy',
      'tags',
      'replace',
      'fresh_gomod',
      'module_path',
      'dockerfile_extensions',
    ].map((k) => [k, GO_ONLY]),
  ),
};
