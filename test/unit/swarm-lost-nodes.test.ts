import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LostNodes } from '../../targets/swarm/lost-nodes.js';
import type { SwarmNode, SwarmTask } from '../../targets/swarm/swarm-cli.js';

const node = (id: string, state: string): SwarmNode => ({
  id,
  hostname: `host-${id}`,
  state,
  address: `198.19.200.1${id}`,
});
const task = (service: string, nodeId: string, state = 'running'): SwarmTask => ({
  id: `${service}.1`,
  service,
  nodeId,
  state,
  desired: 'running',
  error: '',
  containerId: undefined,
  exitCode: undefined,
});
const ENDED = new Set(['complete', 'failed', 'shutdown']);

test('swarm: a node is lost once it stays down past the grace, with the instances it runs, and once only', () => {
  const watch = new LostNodes(3_000);
  const tasks = [task('a-0', '1'), task('a-1', '2'), task('agent', '2'), task('a-2', '2', 'complete')];
  assert.deepEqual(watch.check([node('1', 'ready'), node('2', 'down')], tasks, ENDED, 0), [], 'first look: suspect');
  assert.deepEqual(watch.check([node('1', 'ready'), node('2', 'down')], tasks, ENDED, 2_000), [], 'still in grace');
  const lost = watch.check([node('1', 'ready'), node('2', 'down')], tasks, ENDED, 3_500);
  assert.deepEqual(
    lost.map((l) => [l.node.hostname, l.instances]),
    [['host-2', ['a-1']]],
    'the agent and an ended instance are not named',
  );
  assert.deepEqual(watch.check([node('2', 'down')], tasks, ENDED, 9_000), [], 'reported once');
});

test('swarm: a node reported down for a moment (a missed heartbeat) is not lost', () => {
  const watch = new LostNodes(3_000);
  const tasks = [task('a-0', '1')];
  assert.deepEqual(watch.check([node('1', 'unknown')], tasks, ENDED, 0), []);
  assert.deepEqual(watch.check([node('1', 'ready')], tasks, ENDED, 2_000), []);
  assert.deepEqual(watch.check([node('1', 'down')], tasks, ENDED, 4_000), [], 'down again: a new grace');
  assert.equal(watch.check([node('1', 'down')], tasks, ENDED, 7_000).length, 1);
});

test('swarm: a node down without instances of the run is not a lost run', () => {
  const watch = new LostNodes(0);
  assert.deepEqual(watch.check([node('3', 'down')], [task('a-0', '1')], ENDED, 0), []);
});
