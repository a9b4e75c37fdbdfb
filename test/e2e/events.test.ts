// The plan's [[events]] on the local target: a partition at a state, a link change at a time, a
// heal, a kill and a restart of a service, each measured from inside the data network.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, results, tgcRun } from '../support/helpers.js';
import { checkEventsRun, eventsPlan } from '../support/events-plan.js';
import { leftovers } from '../support/local-runs.js';
import { netSkipReason } from '../support/net-lab.js';
import { buildTestImage, dockerSkipReason, leftovers as dockerLeftovers } from '../support/docker-lab.js';

const skip = netSkipReason();
const docker = dockerSkipReason();

test(
  'events on the local target: each effect measured, each applied within 200 ms of its trigger',
  { skip, timeout: 180_000 },
  async () => {
    const plan = eventsPlan((f) => ['node', join(repoRoot, 'test/clients', f)]);
    const r = await tgcRun(plan);
    assert.equal(r.code, 0, r.said);
    // The live progress names the events applied so far.
    assert.match(r.stderr, /^tgc: .* · events cut(, slow)? · /m);
    checkEventsRun(results(r.out));
    assert.deepEqual(await leftovers(r.out), []);
  },
);

for (const kernel of [true, 'mark'] as const) {
  test(
    `events on the local target, kernel backend (${kernel === 'mark' ? 'by mark' : 'by address'}): ` +
      'partitions and heals as tc filters on single destinations',
    { skip, timeout: 180_000 },
    async () => {
      const plan = eventsPlan((f) => ['node', join(repoRoot, 'test/clients', f)], { kernel });
      const r = await tgcRun(plan);
      assert.equal(r.code, 0, r.said);
      assert.match(r.stderr, kernel === 'mark' ? /shaping kernel, classified by the sender's mark/ : /shaping kernel/);
      checkEventsRun(results(r.out), { kernel });
      assert.deepEqual(await leftovers(r.out), []);
    },
  );
}

test(
  'events on compose: the same plan in containers, process actions with the container runtime',
  { skip: docker ?? false, timeout: 300_000 },
  async () => {
    buildTestImage('tgc-test-events:latest', {
      [join(repoRoot, 'test/clients/events-service.mjs')]: '/app/test/clients/events-service.mjs',
      [join(repoRoot, 'test/clients/events-checker.mjs')]: '/app/test/clients/events-checker.mjs',
    });
    const plan = eventsPlan((f) => ['node', `/app/test/clients/${f}`], {
      defaults: 'image = "tgc-test-events:latest"',
    });
    const r = await tgcRun(plan, ['--target', 'compose']);
    assert.equal(r.code, 0, r.said);
    checkEventsRun(results(r.out));
    assert.deepEqual(dockerLeftovers(/tgc: run (\S+) /.exec(r.stderr)![1]!), []);
  },
);
