// Testground's per-subnet rules as per-destination shapes (runtime/coordinator/testground-rules.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ruleTable } from '../../runtime/coordinator/testground-rules.js';

const addresses = new Map([
  ['g-0', '198.18.0.2'],
  ['g-1', '198.18.0.3'],
  ['g-2', '198.18.1.4'],
  ['g-3', '198.19.0.5'],
]);
const ms = 1e6; // sdk-go's durations are nanoseconds

test('the most specific subnet wins, whatever the rules’ order; the sender itself is never a destination', () => {
  const r = ruleTable(
    {
      default: { latency: 5 * ms },
      rules: [
        { subnet: '198.18.0.0/16', latency: 50 * ms },
        { subnet: '198.18.0.3/32', filter: 2 },
        { subnet: '198.18.1.0/24', filter: 1 },
        { subnet: '0.0.0.0/0', filter: 0 },
      ],
    },
    'g-0',
    addresses,
  );
  assert.ok('table' in r);
  assert.deepEqual([...r.table.keys()].sort(), ['g-1', 'g-2', 'g-3']);
  assert.equal(r.table.get('g-1')!.blocked, true);
  assert.equal(r.table.get('g-1')!.refused, undefined, 'drop: silence');
  assert.deepEqual([r.table.get('g-2')!.blocked, r.table.get('g-2')!.refused], [true, true], 'reject');
  // A rule that only filters keeps the default shape; 0.0.0.0/0 covers what nothing else does.
  assert.deepEqual([r.table.get('g-3')!.latencyMs, r.table.get('g-3')!.blocked], [5, false]);
});

test('a rule with shape fields of its own is that subnet’s shape; host bits ignored (Go’s ParseCIDR)', () => {
  const r = ruleTable(
    { default: { latency: 5 * ms }, rules: [{ subnet: '198.18.0.99/24', latency: 100 * ms, loss: 2 }] },
    'g-2',
    addresses,
  );
  assert.ok('table' in r);
  assert.deepEqual([...r.table.keys()].sort(), ['g-0', 'g-1']);
  assert.deepEqual([r.table.get('g-0')!.latencyMs, r.table.get('g-0')!.lossPct], [100, 2]);
});

test('no rules: an empty table; bad rules: why', () => {
  assert.deepEqual(ruleTable({}, 'g-0', addresses), { table: new Map() });
  assert.deepEqual(ruleTable({ rules: {} }, 'g-0', addresses), { error: 'rules must be a list' });
  assert.match(
    (ruleTable({ rules: [{ filter: 1 }] }, 'g-0', addresses) as { error: string }).error,
    /rule 1 has no subnet/,
  );
  assert.match(
    (ruleTable({ rules: [{ subnet: 'fd00::/8' }] }, 'g-0', addresses) as { error: string }).error,
    /IPv6 subnets \(fd00::\/8\) are not supported/,
  );
  assert.match(
    (ruleTable({ rules: [{ subnet: '198.18.0.0/33' }] }, 'g-0', addresses) as { error: string }).error,
    /rule 1: subnet "198\.18\.0\.0\/33" is not an IPv4 CIDR/,
  );
});
