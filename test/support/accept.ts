// Refreshes the golden files from what the compiler produces today: `npm run accept`.
// Review the diff before committing it — the goldens are the compiler's test.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planJson } from '../../cli/format-plan.js';
import { stableStringify } from '../../cli/stable-stringify.js';
import { planEgress } from '../../model/egress-plan.js';
import { compileFile } from '../../compiler/pipeline.js';
import { repoRoot, runCli } from './helpers.js';
import { tcGolden } from './tc-golden.js';

const validDir = join(repoRoot, 'test/fixtures/valid');
for (const name of readdirSync(validDir).sort()) {
  const result = compileFile(join(validDir, name, 'plan.toml'));
  if (!result.plan) throw new Error(`test/fixtures/valid/${name}/plan.toml does not compile`);
  writeFileSync(join(validDir, name, 'plan.json'), planJson(result.plan));
  console.log(`wrote test/fixtures/valid/${name}/plan.json`);
}

// Egress plans: for every group of each test/fixtures/egress/<case>/plan.toml, what it sends where.
const egressDir = join(repoRoot, 'test/fixtures/egress');
for (const name of readdirSync(egressDir).sort()) {
  writeFileSync(join(egressDir, name, 'egress.json'), egressJson(join(egressDir, name, 'plan.toml')));
  console.log(`wrote test/fixtures/egress/${name}/egress.json`);
}

export function egressJson(planFile: string): string {
  const { plan } = compileFile(planFile);
  if (!plan) throw new Error(`${planFile} does not compile`);
  return stableStringify(plan.groups.map((g) => planEgress(plan, g.id))) + '\n';
}

// tc golden: the full fixture rendered for the kernel backend (every netem option).
writeFileSync(join(repoRoot, 'test/fixtures/tc/full.txt'), tcGolden());
console.log('wrote test/fixtures/tc/full.txt');

// Generated deployments: every example and target fixture, for every target, as `tgc compile`
// writes them (examples/*/generated/<target>/, test/fixtures/targets/*/generated/<target>/).
{
  const { compiledTrees } = await import('./compiled-trees.js');
  for (const { planFile, target, outDir } of compiledTrees()) {
    const r = await runCli(['compile', planFile, '--target', target, '-o', outDir]);
    if (r.code !== 0) throw new Error(`${planFile} --target ${target}: ${r.stderr}`);
    console.log(`wrote ${outDir}`);
  }
}
