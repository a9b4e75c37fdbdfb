// How the Kubernetes and Nomad drivers turn what their orchestrator says into exits, and the
// driver connection that tells a real coordinator. No cluster runs here: pods are checked
// against Kubernetes' own schema (kubernetes-models), allocations follow Nomad's API documents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pod } from 'kubernetes-models/v1';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { connectExitSink, containerExit, pollExits, type EndedInstance } from '../../targets/driver/exit-sink.js';
import { podExit, podInstance, type PodInfo } from '../../targets/k8s/pod-exits.js';
import { allocExit, allocInstance, type AllocInfo } from '../../targets/nomad/alloc-exits.js';

test('a container exit: a code, or 128 + a signal number, or the signal the orchestrator names', () => {
  assert.deepEqual(containerExit(0), { code: 0, signal: null });
  assert.deepEqual(containerExit(3), { code: 3, signal: null });
  assert.deepEqual(containerExit(137), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(containerExit(143), { code: null, signal: 'SIGTERM' });
  assert.deepEqual(containerExit(1, 9), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(containerExit(2, 0), { code: 2, signal: null });
});

function pod(name: string, group: string | undefined, index: string | undefined, terminated?: object): PodInfo {
  const p = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      ...(group && { labels: { 'tgc.dev/group': group } }),
      ...(index !== undefined && { annotations: { 'batch.kubernetes.io/job-completion-index': index } }),
    },
    spec: { containers: [{ name: 'instance', image: 'x' }] },
    status: {
      containerStatuses: [
        { name: 'shaping', ready: true, restartCount: 0, image: 'r', imageID: '', state: { running: {} } },
        {
          name: 'instance',
          ready: false,
          restartCount: 0,
          image: 'x',
          imageID: '',
          state: terminated ? { terminated } : { running: {} },
        },
      ],
    },
  };
  new Pod(p as ConstructorParameters<typeof Pod>[0]).validate();
  return p as PodInfo;
}

test('k8s: an instance pod is <group>-<completion index>; its instance container ends with a code or a signal', () => {
  const running = pod('tgc-p-peers-1-abc', 'peers', '1');
  assert.equal(podInstance(running), 'peers-1');
  assert.equal(podExit(running), undefined);
  assert.deepEqual(podExit(pod('a', 'peers', '0', { exitCode: 3, reason: 'Error' })), { code: 3, signal: null });
  assert.deepEqual(podExit(pod('b', 'peers', '0', { exitCode: 0, reason: 'Completed' })), { code: 0, signal: null });
  assert.deepEqual(podExit(pod('c', 'peers', '0', { exitCode: 137, reason: 'OOMKilled' })), {
    code: null,
    signal: 'SIGKILL',
  });
  assert.deepEqual(podExit(pod('d', 'peers', '0', { exitCode: 1, signal: 15 })), { code: null, signal: 'SIGTERM' });
  assert.equal(podInstance(pod('tgc-p-coordinator-xyz', undefined, undefined)), undefined);
});

function alloc(
  name: string,
  group: string,
  state: string,
  events: readonly { Type: string; ExitCode?: number; Signal?: number }[],
): AllocInfo {
  return {
    ID: `id-${name}`,
    Name: name,
    TaskGroup: group,
    TaskStates: { instance: { State: state, Events: events } },
  };
}

test('nomad: an allocation is <group>-<index>; a dead instance task ends with its last Terminated event', () => {
  const started = [{ Type: 'Received' }, { Type: 'Started' }];
  assert.equal(allocInstance(alloc('tgc-p.peers[2]', 'peers', 'running', started)), 'peers-2');
  assert.equal(allocExit(alloc('tgc-p.peers[2]', 'peers', 'running', started)), undefined);
  const ended = (ExitCode: number, Signal = 0) =>
    alloc('j.peers[0]', 'peers', 'dead', [...started, { Type: 'Terminated', ExitCode, Signal }]);
  assert.deepEqual(allocExit(ended(0)), { code: 0, signal: null });
  assert.deepEqual(allocExit(ended(3)), { code: 3, signal: null });
  assert.deepEqual(allocExit(ended(137)), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(allocExit(ended(0, 9)), { code: null, signal: 'SIGKILL' });
  assert.equal(allocInstance(alloc('j.coordinator[0]', 'coordinator', 'running', started)), undefined);
});

test('the exit sink tells a real coordinator how instances ended; a service ending aborts the run', async (t) => {
  const c = new Coordinator({ instances: 3, groups: { peers: 3 }, services: { db: 1 }, exitGraceMs: 60_000 });
  const port = await c.listen(0);
  t.after(() => c.close());
  const roles = new Map([
    ['peers-0', { group: 'peers' }],
    ['peers-1', { group: 'peers' }],
    ['peers-2', { group: 'peers' }],
  ]);
  const ended: EndedInstance[] = [];
  const watch = pollExits(await connectExitSink({ host: '127.0.0.1', port }, roles), async () => ended, 20);
  t.after(() => watch.close());
  const log = (text: string) => async () => text;
  ended.push({ instance: 'peers-0', exit: { code: 0, signal: null }, log: log('') });
  ended.push({ instance: 'not-in-the-plan', exit: { code: 1, signal: null }, log: log('') });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(c.status().outcomes.success, 1);
  ended.push({ instance: 'peers-1', exit: { code: 3, signal: null }, log: log('line one\nthe answer was 41\n') });
  const results = await c.ended;
  const peer1 = results.instances.find((i) => i.name === 'peers-1')!;
  assert.equal(peer1.outcome, 'failure');
  assert.match(peer1.reason!, /^exited with code 3\nline one\nthe answer was 41$/);
  assert.equal(results.instances.length, 2, 'the unknown instance was not reported');

  // A crash, and a service's early end.
  const c2 = new Coordinator({ instances: 2, groups: { peers: 2 }, services: { db: 1 }, exitGraceMs: 60_000 });
  const port2 = await c2.listen(0);
  t.after(() => c2.close());
  const sink = await connectExitSink(
    { host: '127.0.0.1', port: port2 },
    new Map([
      ['peers-0', { group: 'peers' }],
      ['db-0', { group: 'db', service: 'fail' as const }],
    ]),
  );
  t.after(() => sink.close());
  sink.report('peers-0', { code: null, signal: 'SIGKILL' }, log('killed'));
  assert.equal(sink.has('peers-0'), true);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(c2.status().outcomes.crash, 1);
  const c3 = new Coordinator({ instances: 1, groups: { peers: 1 }, services: { db: 1 }, exitGraceMs: 60_000 });
  const port3 = await c3.listen(0);
  t.after(() => c3.close());
  const sink3 = await connectExitSink(
    { host: '127.0.0.1', port: port3 },
    new Map([['db-0', { group: 'db', service: 'fail' as const }]]),
  );
  t.after(() => sink3.close());
  sink3.report('db-0', { code: 4, signal: null }, log('giving up'));
  const r3 = await c3.ended;
  assert.equal(r3.outcome, 'failure');
  assert.match(r3.reason!, /^service db-0 exited with code 4\ngiving up/);
});
