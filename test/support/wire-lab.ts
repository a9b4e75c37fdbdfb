import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { compileText } from '../../compiler/pipeline.js';
import type { NativeWireOptions } from '../../targets/local/native-wire.js';
import { UserspaceNetwork, type WireEngine } from '../../targets/local/userspace-network.js';
import { NetLab } from './net-lab.js';

/** Two instances on one wire: a-0 and b-0, each in a namespace of its own. */
export interface WireLab {
  readonly lab: NetLab;
  readonly net: UserspaceNetwork;
  readonly ns: Record<'a' | 'b', string>;
  readonly ip: Record<'a' | 'b', string>;
}

/**
 * a-0 and b-0 with a TUN data interface each on one wire (the given engine, and how the native
 * one does its I/O) that shapes per the plan's `[network]` (the TOML given). Torn down after the
 * test, which then asserts nothing of it is left.
 */
export async function wireLab(
  t: TestContext,
  engine: WireEngine,
  network: string,
  nativeWire: NativeWireOptions = {},
): Promise<WireLab> {
  const { plan, diagnostics } = compileText(
    'plan.toml',
    `version = 1\nname = "wire"\n[defaults]\ncommand = ["x"]\n${network}\n[[groups]]\nid = "a"\ninstances = ` +
      `1\n[[groups]]\nid = "b"\ninstances = 1\n`,
  );
  assert.ok(plan, JSON.stringify(diagnostics.items));
  const lab = new NetLab();
  let net: UserspaceNetwork | undefined;
  t.after(async () => {
    await net?.close();
    await lab.cleanup();
    assert.deepEqual(await lab.leftovers(), [], 'nothing of the test is left');
  });
  const ns = { a: await lab.netns('a'), b: await lab.netns('b') };
  const ip = { a: '198.18.0.2', b: '198.18.0.3' };
  net = await UserspaceNetwork.start({
    plan,
    prefix: 16,
    engine,
    nativeWire,
    instances: (['a', 'b'] as const).map((side) => ({
      name: `${side}-0`,
      group: side,
      netns: ns[side],
      ip: ip[side],
      device: lab.device(side),
    })),
  });
  for (const p of net.processes) lab.track(p);
  assert.equal(net.engineName, engine);
  return { lab, net, ns, ip };
}
