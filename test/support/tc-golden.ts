import { join } from 'node:path';
import { compileFile } from '../../compiler/pipeline.js';
import { planEgress } from '../../model/egress-plan.js';
import { renderTc } from '../../runtime/shaping/tc-plan.js';
import { repoRoot } from './helpers.js';

/** The tc golden (test/fixtures/tc/full.txt): the full fixture rendered for the kernel backend. */
export function tcGolden(): string {
  const { plan } = compileFile(join(repoRoot, 'test/fixtures/valid/full/plan.toml'));
  if (!plan) throw new Error('test/fixtures/valid/full/plan.toml does not compile');
  const addresses = new Map([
    ['clients', ['198.18.64.2', '198.18.64.3', '198.18.64.4']],
    ['servers', ['198.18.64.5', '198.18.64.6']],
    ['observer', ['198.18.64.7']],
  ]);
  return plan.groups
    .map((g) => `# ${g.id}\n${renderTc(planEgress(plan, g.id), { device: 'data0', addresses }).batch.join('\n')}\n`)
    .join('\n');
}
