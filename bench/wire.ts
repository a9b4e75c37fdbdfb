// bench/wire — the userspace wire against a direct veth pair, measured in one run.
//
// Two network namespaces joined (a) by a veth pair and (b) by TUN devices bridged through the
// wire with no shape configured. For each: a bulk TCP transfer (Mbit/s), a flood of small UDP
// datagrams (packets/s delivered), and ICMP round trips at rest (p50, p99), from which the
// wire's added latency follows. Prints the figures and wire/direct ratios.
// Targets: ≥ 300 Mbit/s, ≥ 50,000 packets/s, p50 added latency < 0.3 ms.
// Needs root, iproute2, socat and ping; run: npm run bench:wire.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { compileText } from '../compiler/pipeline.js';
import { UserspaceNetwork } from '../targets/local/userspace-network.js';
import { NetLab, netSkipReason } from '../test/support/net-lab.js';

const run = promisify(execFile);
const reason = netSkipReason();
if (reason) {
  console.error(`bench/wire ${reason}`);
  process.exit(3);
}

interface Figures {
  mbit: number;
  pps: number;
  p50: number;
  p99: number;
}

async function measure(lab: NetLab, a: string, b: string, ipB: string, bytes: number): Promise<Figures> {
  const sink = await lab.probe(b, ['tcp-sink', 7200], true);
  await (await lab.probe(a, ['tcp-send', ipB, 7200, bytes])).result.catch(() => undefined);
  const tcp = (await sink.result) as { bytes: number; ms: number };
  const udpSink = await lab.probe(b, ['sink', 7201, 3500], true);
  await (
    await lab.probe(a, ['flood', ipB, 7201, 2000])
  ).result;
  const { received } = (await udpSink.result) as { received: number };
  const rtts = (await lab.ping(a, ipB, 300, 0.01)).sort((x, y) => x - y);
  return {
    mbit: (tcp.bytes * 8) / (tcp.ms / 1000) / 1e6,
    pps: received / 2,
    p50: rtts[Math.floor(rtts.length * 0.5)]!,
    p99: rtts[Math.floor(rtts.length * 0.99)]!,
  };
}

const lab = new NetLab();
let net: UserspaceNetwork | undefined;
try {
  // Direct: a veth pair.
  const da = await lab.netns('da');
  const db = await lab.netns('db');
  await run('ip', [
    'link',
    'add',
    lab.device('va'),
    'netns',
    da,
    'type',
    'veth',
    'peer',
    'name',
    lab.device('vb'),
    'netns',
    db,
  ]);
  await run('ip', ['-n', da, 'addr', 'add', '198.18.2.1/24', 'dev', lab.device('va')]);
  await run('ip', ['-n', db, 'addr', 'add', '198.18.2.2/24', 'dev', lab.device('vb')]);
  await run('ip', ['-n', da, 'link', 'set', lab.device('va'), 'up']);
  await run('ip', ['-n', db, 'link', 'set', lab.device('vb'), 'up']);
  const direct = await measure(lab, da, db, '198.18.2.2', 400_000_000);

  // Through the wire, nothing configured.
  const { plan } = compileText(
    'bench.toml',
    'version = 1\nname = "bench"\n[defaults]\ncommand = ["x"]\n[[groups]]\nid = "a"\ninstances = ' +
      '1\n[[groups]]\nid = "b"\ninstances = 1\n',
  );
  const wa = await lab.netns('wa');
  const wb = await lab.netns('wb');
  net = await UserspaceNetwork.start({
    plan: plan!,
    prefix: 16,
    instances: [
      { name: 'a-0', group: 'a', netns: wa, ip: '198.18.0.2', device: lab.device('ta') },
      { name: 'b-0', group: 'b', netns: wb, ip: '198.18.0.3', device: lab.device('tb') },
    ],
  });
  const wire = await measure(lab, wa, wb, '198.18.0.3', 100_000_000);

  const row = (label: string, d: number, w: number, unit: string, target: string, ok: boolean) =>
    console.log(
      `${label.padEnd(24)} direct ${d.toFixed(unit === 'ms' ? 3 : 0).padStart(10)} ${unit.padEnd(5)} wire ` +
        `${w.toFixed(unit === 'ms' ? 3 : 0).padStart(10)} ${unit.padEnd(5)} ratio ${(w / d).toFixed(3)}   ` +
        `${target}${ok ? ' ok' : ' MISSED'}`,
    );
  console.log('bench/wire: userspace wire vs a direct veth pair, one run');
  row('bulk TCP', direct.mbit, wire.mbit, 'Mbit/s', 'target ≥ 300 Mbit/s', wire.mbit >= 300);
  row('UDP flood (64 B)', direct.pps, wire.pps, 'pkt/s', 'target ≥ 50,000 pkt/s', wire.pps >= 50_000);
  row('round trip p50', direct.p50, wire.p50, 'ms', '', true);
  row('round trip p99', direct.p99, wire.p99, 'ms', '', true);
  const addedP50 = wire.p50 - direct.p50;
  const addedP99 = wire.p99 - direct.p99;
  console.log(
    `added latency at 0 ms configured: p50 ${addedP50.toFixed(3)} ms, p99 ${addedP99.toFixed(3)} ms per round ` +
      `trip (≈ ${(addedP50 / 2).toFixed(3)} ms each way)   target p50 < 0.3 ms ${addedP50 < 0.3 ? 'ok' : 'MISSED'}`,
  );
  console.log(`wire counters (${net.engineName}): ${JSON.stringify(await net.stats())}`);
  process.exitCode = wire.mbit >= 300 && wire.pps >= 50_000 && addedP50 < 0.3 ? 0 : 1;
} finally {
  await net?.close();
  await lab.cleanup();
}
