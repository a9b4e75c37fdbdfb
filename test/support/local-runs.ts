// Helpers of the local target's end-to-end tests.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, tempDir } from './helpers.js';

const exec = promisify(execFile);
const behave = join(repoRoot, 'test/clients/behave.mjs');

export /** A plan with one group per (id, mode), in a temp dir. */
function behaviourPlan(groups: [string, string, number][], timeout = '1m'): string {
  const dir = tempDir('tgc-plan-');
  const file = join(dir, 'plan.toml');
  writeFileSync(
    file,
    `version = 1\nname = "behave"\n[run]\ntimeout = "${timeout}"\n` +
      `[defaults]\ncommand = ["node", ${JSON.stringify(behave)}]\n` +
      groups
        .map(([id, mode, n]) => `[[groups]]\nid = "${id}"\ninstances = ${n}\nparams = { mode = "${mode}" }\n`)
        .join(''),
  );
  return file;
}

export /** What a run left in the kernel or the process table, found by its run id's tag. */
async function leftovers(out: string): Promise<string[]> {
  const runId = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).run_id as string;
  const tag = runId.slice(-6);
  const found: string[] = [];
  found.push(...(await exec('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.includes(`tgc-${tag}-`)));
  found.push(...(await exec('ip', ['-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(tag)));
  found.push(
    ...(await exec('ps', ['-eo', 'pid,args'])).stdout
      .split('\n')
      .filter((l) => l.includes(tag) && !l.includes('ps -eo')),
  );
  return found;
}
