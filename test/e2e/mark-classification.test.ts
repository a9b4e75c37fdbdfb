// The mark classification (docs/network.md) in network namespaces: 60 instances in 6 groups on
// the kernel backend, each receiver shaping by the sender's group — rates, a blocked pair, and
// the rules one agent installed. No sch_netem here: rates and drops, no delay.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, results, tempDir, tgcRun } from '../support/helpers.js';
import { leftovers } from '../support/local-runs.js';
import { netSkipReason } from '../support/net-lab.js';

test(
  'mark classification: 60 instances in 6 groups — rates ±10 %, a blocked pair dropped, the rest delivered',
  { skip: netSkipReason(), timeout: 240_000 },
  async () => {
    const file = join(tempDir('tgc-plan-'), 'plan.toml');
    let text =
      'version = 1\nname = "marks"\n[run]\ntimeout = "3m"\n[network]\nshaping = "kernel"\nclassify = "mark"\n' +
      '[[network.links]]\nfrom = "g0"\nto = "g5"\nblocked = true\n' +
      `[defaults]\ncommand = ["node", ${JSON.stringify(join(repoRoot, 'test/clients/classify-check.mjs'))}]\n`;
    for (let i = 0; i < 6; i++)
      text += `[[groups]]\nid = "g${i}"\ninstances = 10\nnetwork = { bandwidth = "${(i + 1) * 2}Mbit" }\n`;
    writeFileSync(file, text);
    const r = await tgcRun(file);
    assert.equal(r.code, 0, r.said);
    assert.match(r.stderr, /shaping kernel, classified by the sender's mark/);
    const res = results(r.out);
    const metric = (name: string, m: string) =>
      res.instances.find((i: { name: string }) => i.name === name).metrics[m]?.last as number;
    // gi-0 → g(i+1)-0, g5-0 → g1-1 (not g0: g0's replies to g5 are blocked): the receiver shaped
    // the sender group's rate.
    const receivers: [string, number][] = [
      ['g1-0', 0],
      ['g2-0', 1],
      ['g3-0', 2],
      ['g4-0', 3],
      ['g5-0', 4],
      ['g1-1', 5],
    ];
    for (const [receiver, g] of receivers) {
      const got = metric(receiver, `mbit_from_g${g}`);
      const want = (g + 1) * 2;
      assert.ok(
        Math.abs(got - want) <= want * 0.1,
        `g${g} → ${receiver}: ${got.toFixed(2)} Mbit/s, want ${want} ± 10 %`,
      );
    }
    // g2-5 shaped its own egress (configure): 3 Mbit/s, not its group's 6.
    const own = metric('g4-5', 'mbit_from_g2-5');
    assert.ok(Math.abs(own - 3) <= 0.3, `g2-5 (configured to 3 Mbit/s) → g4-5: ${own.toFixed(2)} Mbit/s`);
    const messages = res.instances.flatMap((i: { messages: string[] }) => i.messages);
    assert.deepEqual(messages.sort(), ['g0-2 → g5-1: dropped', 'g0-3 → g4-3: delivered', 'g1-2 → g5-2: delivered']);
    // One agent's rules (g3-0, counted in its namespace): the ingress redirect and a filter per
    // shaped source group, a class per distinct shape and the default one, its mark (g3 blocks
    // nobody) — O(groups): test/unit/mark-plan.test.ts shows the same for 10 or 100 per group.
    assert.equal(metric('g3-0', 'iptables_rules'), 1);
    assert.equal(metric('g3-0', 'tc_filters'), 1 + 6);
    assert.equal(metric('g3-0', 'tc_classes'), 1 + 6);
    assert.deepEqual(await leftovers(r.out), []);
  },
);
