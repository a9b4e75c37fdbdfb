import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { compileText } from '../../compiler/pipeline.js';
import { shapingPlan } from '../../model/egress-plan.js';
import { repoRoot } from '../support/helpers.js';
import { NetLab, netSkipReason } from '../support/net-lab.js';

const run = promisify(execFile);
const skip = netSkipReason();

function exited(p: ChildProcess): Promise<number | null> {
  return p.exitCode !== null
    ? Promise.resolve(p.exitCode)
    : new Promise((resolve) => p.once('exit', (code) => resolve(code)));
}

// What a Kubernetes pod or a Nomad allocation runs: `agent.mjs kernel` with no addresses in
// TGC_SHAPING, so the agents exchange them through the coordinator, then shape their one
// interface by destination. Here: two namespaces joined by a veth pair; the coordinator in
// namespace a on an address of its own, which must stay unshaped.
test(
  'container agent (kernel): agents exchange addresses on the coordinator, shape by destination, leave ' +
    'coordinator traffic alone, report ready and exit with the run',
  { skip },
  async (t) => {
    const lab = NetLab.forTest(t);
    const a = await lab.netns('a');
    const b = await lab.netns('b');
    const [va, vb] = await lab.veth(a, b, ['198.18.5.1/24', '198.18.5.10/24'], ['198.18.5.2/24']);

    const { plan } = compileText(
      'p.toml',
      'version = 1\nname = "p"\n[defaults]\nimage = "x"\n[[network.links]]\nfrom = "a"\nto = "b"\nbandwidth = ' +
        '"5Mbit"\n[[network.links]]\nfrom = "b"\nto = "a"\nblocked = true\n[[groups]]\nid = "a"\ninstances = ' +
        '1\n[[groups]]\nid = "b"\ninstances = 1\n',
    );
    assert.ok(plan);
    const coordinator = spawn(
      'ip',
      [
        'netns',
        'exec',
        a,
        process.execPath,
        join(repoRoot, 'dist/runtime/coordinator.mjs'),
        '--host',
        '198.18.5.10',
        '--port',
        '5050',
        '--instances',
        '2',
        '--agents',
        '--linger',
        '0s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    lab.track(coordinator);
    const agent = (ns: string, group: string) => {
      let stderr = '';
      const p = spawn(
        'ip',
        ['netns', 'exec', ns, process.execPath, join(repoRoot, 'dist/runtime/agent.mjs'), 'kernel'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: {
            PATH: process.env.PATH,
            TGC_INSTANCE: `${group}-0`,
            TGC_GROUP: group,
            TGC_COORDINATOR: '198.18.5.10:5050',
            TGC_DATA_SUBNET: '198.18.5.0/30',
            TGC_SHAPING: JSON.stringify(shapingPlan(plan)),
          },
        },
      );
      p.stderr!.on('data', (d: Buffer) => (stderr += d));
      lab.track(p);
      return { p, stderr: () => stderr };
    };
    const agents = { a: agent(a, 'a'), b: agent(b, 'b') };
    // Both shaped once each has the other's address.
    const deadline = Date.now() + 15_000;
    while (!(agents.a.stderr().includes('shaped') && agents.b.stderr().includes('shaped'))) {
      assert.ok(Date.now() < deadline, `agents did not shape:\n${agents.a.stderr()}\n${agents.b.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(agents.a.stderr(), /waiting for the data addresses of 2 instances/);
    // a → b: a 5 Mbit/s class, filtered to b's address (learnt from the coordinator).
    assert.match((await run('tc', ['-n', a, 'class', 'show', 'dev', va])).stdout, /rate 5Mbit/);
    assert.match((await run('tc', ['-n', a, 'filter', 'show', 'dev', va])).stdout, /match c6120502\/ffffffff at 16/);
    // b → a: partitioned by destination 198.18.5.1 only; the coordinator on .10 is still reached.
    assert.match(
      (await run('tc', ['-n', b, 'filter', 'show', 'dev', vb])).stdout,
      /match c6120501\/ffffffff at 16[\s\S]*mirred/,
    );
    await assert.rejects(
      run('ip', ['netns', 'exec', b, 'ping', '-c', '1', '-W', '1', '198.18.5.1']),
      'b cannot reach a',
    );
    await run('ip', ['netns', 'exec', b, 'ping', '-c', '1', '-W', '1', '198.18.5.10']);
    const status = JSON.parse(
      (
        await run('ip', [
          'netns',
          'exec',
          a,
          process.execPath,
          '-e',
          "fetch('http://198.18.5.10:5050/status').then((r) => r.text()).then((t) => process.stdout.write(t))",
        ])
      ).stdout,
    );
    assert.equal(status.network_ready, 2, 'both agents reported network-ready');
    // The run ends (here: the coordinator stops); the agents leave on their own, successfully.
    coordinator.kill('SIGTERM');
    assert.equal(await exited(agents.a.p), 0, agents.a.stderr());
    assert.equal(await exited(agents.b.p), 0, agents.b.stderr());
  },
);
