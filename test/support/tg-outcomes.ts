// The Go test plan of Testground's outcome and metric rules (test/fixtures/testground/outcomes),
// built once per test file, and tgc plans of Testground's kind that run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers.js';

export const goSkip = spawnSync('go', ['version']).error
  ? 'needs go (apt-get install golang-go; CI installs it)'
  : undefined;

/** Builds the plan's program (static: it runs in any image) into `dir`; its path. */
export function buildOutcomes(dir: string): string {
  const program = join(dir, 'outcomes');
  const built = spawnSync('go', ['build', '-o', program, '.'], {
    cwd: join(repoRoot, 'test/fixtures/testground/outcomes'),
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOCACHE: join(dir, 'cache') },
    encoding: 'utf8',
  });
  assert.equal(built.status, 0, built.stderr);
  return program;
}

/** A tgc plan with a `[testground]` section running the program (or an image of it) in `mode`. */
export function outcomesPlan(
  run: { readonly program: string } | { readonly image: string },
  mode: string,
  o: { instances?: number; run?: string; timeout?: string } = {},
): string {
  const file = join(tempDir('tgc-tg-outcomes-'), 'plan.toml');
  const runs = 'image' in run ? `image = "${run.image}"` : `command = [${JSON.stringify(run.program)}]`;
  writeFileSync(
    file,
    `version = 1\nname = "outcomes"\n[run]\ntimeout = "${o.timeout ?? '60s'}"\n${o.run ?? ''}\n` +
      `[testground]\ncase = "outcomes"\n` +
      `[[groups]]\nid = "g"\ninstances = ${o.instances ?? 2}\n${runs}\nparams = { mode = "${mode}" }\n`,
  );
  return file;
}
