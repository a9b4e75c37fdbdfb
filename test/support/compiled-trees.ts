import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './helpers.js';

/** The compile targets with committed goldens. */
export const COMPILE_TARGETS = ['compose', 'swarm', 'k8s', 'nomad'] as const;

/** Every committed generated tree: each example and target fixture, for each target (paths relative to the repo). */
export function compiledTrees(): { planFile: string; target: (typeof COMPILE_TARGETS)[number]; outDir: string }[] {
  const dirs = [
    ...readdirSync(join(repoRoot, 'examples')).map((d) => join(repoRoot, 'examples', d)),
    ...readdirSync(join(repoRoot, 'test/fixtures/targets')).map((d) => join(repoRoot, 'test/fixtures/targets', d)),
  ].sort();
  return dirs.flatMap((dir) =>
    // Swarm shapes in userspace only: plans that ask for the kernel backend have no swarm tree.
    COMPILE_TARGETS.filter(
      (t) => t !== 'swarm' || !/^shaping = "(kernel|off)"/m.test(readFileSync(join(dir, 'plan.toml'), 'utf8')),
    ).map((target) => ({
      planFile: relative(repoRoot, join(dir, 'plan.toml')),
      target,
      outDir: relative(repoRoot, join(dir, 'generated', target)),
    })),
  );
}
