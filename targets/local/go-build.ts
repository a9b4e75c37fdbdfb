import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Plan } from '../../schema/ir.js';
import { exec } from '../driver/exec.js';
import { EnvironmentError } from '../driver/environment-error.js';

/** The groups the local target builds with go build (Testground's exec:go), and where each build goes. */
export function goBuilds(plan: Plan, planFile: string, outDir: string): { group: string; dir: string; out: string }[] {
  return plan.groups
    .filter((g) => !g.command && g.build?.kind === 'go')
    .map((g) => ({
      group: g.id,
      // build.context is relative to the plan file, as for Docker builds.
      dir: resolve(dirname(resolve(planFile)), g.build!.context),
      out: join(resolve(outDir), 'bin', g.id),
    }));
}

/**
 * Builds each such group's program before anything starts; resolves to each group's command.
 * A program that does not build ends the run before it starts (EnvironmentError: exit 3, with
 * go's own message).
 */
export async function buildGoPrograms(
  plan: Plan,
  planFile: string,
  outDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Map<string, string[]>> {
  const programs = new Map<string, string[]>();
  for (const b of goBuilds(plan, planFile, outDir)) {
    mkdirSync(dirname(b.out), { recursive: true });
    const r = await exec('go', ['build', '-o', b.out, '.'], { env, cwd: b.dir });
    if (r.code !== 0) {
      const why =
        r.code === 127
          ? 'go is not on PATH: apt-get install golang-go'
          : r.stderr.trim().split('\n').slice(-20).join('\n') || `exit code ${r.code}`;
      throw new EnvironmentError(`go build of group "${b.group}" (in ${b.dir}) failed: ${why}`);
    }
    programs.set(b.group, [b.out]);
  }
  return programs;
}
