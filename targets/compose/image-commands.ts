import type { Plan } from '../../schema/ir.js';
import { exec } from '../driver/exec.js';

/**
 * The plan with each group that runs its image's own program (no `command`) given that program
 * as its command — the image's entry point and arguments, as Docker would run them — so that the
 * rendered deployment can start it once the agent has shaped the container (`exec-shaped`). A
 * deployment compiled for people has no image to look at: those groups start at once there.
 */
export async function withImageCommands(plan: Plan, env: Readonly<Record<string, string | undefined>>): Promise<Plan> {
  const groups = await Promise.all(
    plan.groups.map(async (g) => {
      if (g.command || !g.image) return g;
      const r = await exec(
        'docker',
        ['image', 'inspect', '--format', '{{json .Config.Entrypoint}}\t{{json .Config.Cmd}}', g.image],
        {
          env,
        },
      );
      if (r.code !== 0) return g;
      const [entrypoint = [], cmd = []] = r.stdout
        .trim()
        .split('\t')
        .map((j) => (JSON.parse(j) as string[] | null) ?? []);
      const command = [...entrypoint, ...cmd];
      return command.length > 0 ? { ...g, command } : g;
    }),
  );
  return { ...plan, groups };
}
