// bench/wire — the userspace wire against a direct veth pair, measured in one run.
//
// Two network namespaces joined (a) by a veth pair and (b) by TUN devices bridged through the
// native wire with no shape configured, step by step: packet by packet with a system call
// each, with offloads, with io_uring batches (the default: it sleeps between packets) and with
// --busy-poll (it never sleeps). For each: a bulk TCP transfer (Mbit/s), a flood of small UDP
// datagrams (packets/s delivered), and ICMP round trips at rest (p50, p99), from which the
// wire's added latency follows. Prints the figures and wire/direct ratios against the targets:
// bulk ≥ 40% of direct, 64-byte UDP ≥ 90% of its packet rate, added round trip p50 ≤ 0.03 ms
// and p99 ≤ 0.2 ms, each against the veth pair measured just before. Exit 0 when every target
// is met by one of the modes.
// Needs root, iproute2 and ping (and the native wire: npm run build); run: npm run bench:wire.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { compileText } from '../compiler/pipeline.js';
import { UserspaceNetwork } from '../targets/local/userspace-network.js';
import type { NativeWireOptions } from '../targets/local/native-wire.js';
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

  // Through the wire, nothing configured: as it runs by default, then polling.
  const { plan } = compileText(
    'bench.toml',
    'version = 1\nname = "bench"\n[defaults]\ncommand = ["x"]\n[[groups]]\nid = "a"\ninstances = ' +
      '1\n[[groups]]\nid = "b"\ninstances = 1\n',
  );
  const wa = await lab.netns('wa');
  const wb = await lab.netns('wb');
  // Each step of the wire's speed-ups, so that the run says what each bought; the last two
  // are the wire as `tgc run` starts it, without and with --busy-poll.
  const modes: [string, NativeWireOptions][] = [
    ['packet by packet, a system call each', { offload: false, uring: false }],
    ['+ offloads (64 KiB TCP pieces)', { uring: false }],
    ['+ io_uring batches (the default)', {}],
    ['+ --busy-poll', { busyPoll: true }],
  ];
  const met = { bulk: false, pps: false, p50: false, p99: false };
  console.log('bench/wire: the native userspace wire vs a direct veth pair, one run');
  for (const [mode, nativeWire] of modes) {
    // The baseline again before each mode: this machine's figures drift by 20 % and more
    // between minutes, so each ratio compares two measurements taken back to back.
    const direct = await measure(lab, da, db, '198.18.2.2', 400_000_000);
    net = await UserspaceNetwork.start({
      plan: plan!,
      prefix: 16,
      engine: 'native',
      nativeWire,
      instances: [
        { name: 'a-0', group: 'a', netns: wa, ip: '198.18.0.2', device: lab.device('ta') },
        { name: 'b-0', group: 'b', netns: wb, ip: '198.18.0.3', device: lab.device('tb') },
      ],
    });
    const wire = await measure(lab, wa, wb, '198.18.0.3', 400_000_000);
    const counters = await net.stats();
    await net.close();
    net = undefined;
    const bulk = wire.mbit / direct.mbit;
    const pps = wire.pps / direct.pps;
    const p50 = wire.p50 - direct.p50;
    const p99 = wire.p99 - direct.p99;
    met.bulk ||= bulk >= 0.4;
    met.pps ||= pps >= 0.9;
    met.p50 ||= p50 <= 0.03;
    met.p99 ||= p99 <= 0.2;
    const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
    console.log(`wire: ${mode}`);
    console.log(
      `  direct, just before    bulk ${direct.mbit.toFixed(0)} Mbit/s, UDP ${direct.pps.toFixed(0)} pkt/s, ` +
        `round trip p50 ${direct.p50.toFixed(3)} ms, p99 ${direct.p99.toFixed(3)} ms`,
    );
    console.log(
      `  bulk TCP               ${wire.mbit.toFixed(0).padStart(8)} Mbit/s  ratio ${bulk.toFixed(3)}  ` +
        `target ≥ 0.40 ${mark(bulk >= 0.4)}`,
    );
    console.log(
      `  UDP flood (64 B)       ${wire.pps.toFixed(0).padStart(8)} pkt/s   ratio ${pps.toFixed(3)}  ` +
        `target ≥ 0.90 ${mark(pps >= 0.9)}`,
    );
    console.log(
      `  added round trip       p50 ${p50.toFixed(3)} ms (target ≤ 0.030 ${mark(p50 <= 0.03)}), ` +
        `p99 ${p99.toFixed(3)} ms (target ≤ 0.200 ${mark(p99 <= 0.2)})`,
    );
    console.log(`  counters: ${JSON.stringify(counters)}`);
  }
  console.log(
    `every target met by one of the wire's modes: ${Object.values(met).every(Boolean) ? 'yes' : 'no'} ` +
      `(${Object.entries(met)
        .map(([k, v]) => `${k} ${v ? 'ok' : 'MISSED'}`)
        .join(', ')})`,
  );
  process.exitCode = Object.values(met).every(Boolean) ? 0 : 1;
} finally {
  await net?.close();
  await lab.cleanup();
}
