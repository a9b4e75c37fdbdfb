// The mark classification's rules: O(groups) per agent whatever the group sizes, where the
// address classification grows with the instances (when their addresses are scattered, as pod
// addresses are).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShapingPlan } from '../../model/egress-plan.js';
import { planEgress } from '../../model/egress-plan.js';
import { groupDscp, renderMarkPlan } from '../../runtime/shaping/mark-plan.js';
import { renderTc } from '../../runtime/shaping/tc-plan.js';

/** 6 groups of `n`, each with its own rate, and group 0 blocked towards group 5. */
function sixGroups(n: number): ShapingPlan {
  return {
    network: { shape: { latencyMs: 10 }, links: [{ from: 'g0', to: 'g5', shape: { blocked: true } }] },
    groups: Array.from({ length: 6 }, (_, i) => ({
      id: `g${i}`,
      instances: n,
      network: { bandwidthBps: (i + 1) * 2e6 },
    })),
  };
}

/** Scattered addresses (no two adjacent), as a cluster's CNI hands them out. */
function scattered(plan: ShapingPlan): Map<string, string[]> {
  let k = 0;
  return new Map(
    plan.groups.map((g) => [g.id, Array.from({ length: g.instances }, () => `198.18.${(k += 3) >> 8}.${k & 255}`)]),
  );
}

const rules = (p: ReturnType<typeof renderMarkPlan>) => p.tc.length + p.mangle.length + p.filter.length;

test('mark classification: the same rules per agent for 6 groups × 10 and 6 groups × 100', () => {
  for (const group of ['g0', 'g3', 'g5']) {
    const small = renderMarkPlan(sixGroups(10), group, { device: 'eth0', ifb: 'tgcifb0' });
    const large = renderMarkPlan(sixGroups(100), group, { device: 'eth0', ifb: 'tgcifb0' });
    assert.deepEqual(large, small, group);
    // Ingress: redirect + root + default class, then per source group a class (+ netem) + a filter.
    assert.ok(rules(small) <= 4 + 6 * 3 + 1 + 1, `${group}: ${rules(small)} rules`);
  }
  // g5 drops what g0 sends; every sender marks its own group.
  const g5 = renderMarkPlan(sixGroups(10), 'g5', { device: 'eth0', ifb: 'tgcifb0' });
  assert.deepEqual(g5.filter, [
    ['-A', 'TGC-DROP', '-i', 'eth0', '-m', 'dscp', '--dscp', String(groupDscp(0)), '-j', 'DROP'],
  ]);
  assert.deepEqual(g5.mangle, [['-A', 'TGC-MARK', '-o', 'eth0', '-j', 'DSCP', '--set-dscp', '6']]);
  // Each source group's rate is shaped at the receiver, matched on its DSCP.
  assert.ok(g5.tc.some((l) => /htb rate 6000000bit/.test(l)));
  assert.ok(g5.tc.some((l) => / match ip dsfield 8 0xfc /.test(l)));
});

test('address classification (the baseline): the rules grow with the instances when addresses scatter', () => {
  const count = (n: number) => {
    const plan = sixGroups(n);
    return renderTc(planEgress(plan, 'g0'), { device: 'eth0', addresses: scattered(plan) }).batch.length;
  };
  assert.ok(count(100) > 5 * count(10), `${count(10)} → ${count(100)}`);
});

test('mark classification: more than 62 groups cannot be told apart', () => {
  const plan: ShapingPlan = {
    network: { shape: {}, links: [] },
    groups: Array.from({ length: 63 }, (_, i) => ({ id: `g${i}`, instances: 1, network: {} })),
  };
  assert.throws(() => renderMarkPlan(plan, 'g0', { device: 'eth0', ifb: 'i' }), /at most 62 groups/);
});
