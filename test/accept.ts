// Refreshes the golden files from what the compiler produces today: `npm run accept`.
// Review the diff before committing it — the goldens are the compiler's test.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planJson } from '../compiler/format-plan.js';
import { compileFile } from '../compiler/pipeline.js';
import { repoRoot } from './helpers.js';

const validDir = join(repoRoot, 'test/fixtures/valid');
for (const name of readdirSync(validDir).sort()) {
  const result = compileFile(join(validDir, name, 'plan.toml'));
  if (!result.plan) throw new Error(`test/fixtures/valid/${name}/plan.toml does not compile`);
  writeFileSync(join(validDir, name, 'plan.json'), planJson(result.plan));
  console.log(`wrote test/fixtures/valid/${name}/plan.json`);
}
