// bench/wire — the userspace wire against a direct veth pair, measured in one run.
//
// Two network namespaces joined (a) by a veth pair and (b) by TUN devices bridged through the
// native wire with no shape configured, step by step: packet by packet with a system call
// each, with offloads, with io_uring batches (the default: it sleeps between packets) and with
// --busy-poll (it polls while traffic is light). For each: a bulk TCP transfer (Mbit/s), a flood
// of small UDP datagrams (packets/s delivered), and ICMP round trips at rest (p50, p99), from
// which the wire's added latency follows. This machine's figures drift by 20 % and more between
// minutes, so each mode is measured in ROUNDS pairs (3; BENCH_ROUNDS=N), the veth pair just
// before the wire each time, and the medians over the pairs (ratios, added latency) are held
// against the targets: bulk ≥ 40% of direct, 64-byte UDP ≥ 90% of its packet rate, added round
// trip p50 ≤ 0.03 ms and p99 ≤ 0.2 ms. Exit 0 when one mode meets every target.
// Needs root, iproute2 and ping (and the native wire: npm run build); run: npm run bench:wire.
import { compileText } from '../compiler/pipeline.js';
import { UserspaceNetwork } from '../targets/local/userspace-network.js';
import type { NativeWireOptions } from '../targets/local/native-wire.js';
import { NetLab, netSkipReason } from '../test/support/net-lab.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error(`bench/wire: BENCH_ROUNDS must be a whole number of 1 or more, not "${process.env.BENCH_ROUNDS}"`);
  process.exit(2);
}
const roundsText = `${ROUNDS} round${ROUNDS === 1 ? '' : 's'}`;
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
  await lab.veth(da, db, ['198.18.2.1/24'], ['198.18.2.2/24']);

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
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  let metByOne = false;
  console.log(`bench/wire: the native userspace wire vs a direct veth pair, ${roundsText} a mode`);
  for (const [mode, nativeWire] of modes) {
    // per round: the wire's bulk and packet rate as shares of veth's, its added p50 and p99 (ms)
    const rounds = { bulk: [] as number[], pps: [] as number[], p50: [] as number[], p99: [] as number[] };
    console.log(`wire: ${mode}`);
    for (let round = 0; round < ROUNDS; round++) {
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
      rounds.bulk.push(wire.mbit / direct.mbit);
      rounds.pps.push(wire.pps / direct.pps);
      rounds.p50.push(wire.p50 - direct.p50);
      rounds.p99.push(wire.p99 - direct.p99);
      console.log(
        `  round ${round + 1}: direct ${direct.mbit.toFixed(0)} Mbit/s, ${direct.pps.toFixed(0)} pkt/s, ` +
          `p50 ${direct.p50.toFixed(3)} ms, p99 ${direct.p99.toFixed(3)} ms; ` +
          `wire ${wire.mbit.toFixed(0)} Mbit/s, ${wire.pps.toFixed(0)} pkt/s, ` +
          `p50 ${wire.p50.toFixed(3)} ms, p99 ${wire.p99.toFixed(3)} ms; ` +
          `forwarded ${counters.forwarded}, dropped ${JSON.stringify(counters.dropped).replace(/"/g, '')}`,
      );
    }
    const [bulk, pps, p50, p99] = [median(rounds.bulk), median(rounds.pps), median(rounds.p50), median(rounds.p99)];
    const met = { bulk: bulk >= 0.4, pps: pps >= 0.9, p50: p50 <= 0.03, p99: p99 <= 0.2 };
    metByOne ||= Object.values(met).every(Boolean);
    const all = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(', ');
    console.log(
      `  bulk TCP               ratio ${bulk.toFixed(3)} (${all(rounds.bulk, 2)})  target ≥ 0.40 ${mark(met.bulk)}`,
    );
    console.log(
      `  UDP flood (64 B)       ratio ${pps.toFixed(3)} (${all(rounds.pps, 2)})  target ≥ 0.90 ${mark(met.pps)}`,
    );
    console.log(
      `  added round trip       p50 ${p50.toFixed(3)} ms (${all(rounds.p50, 3)}) target ≤ 0.030 ${mark(met.p50)}; ` +
        `p99 ${p99.toFixed(3)} ms (${all(rounds.p99, 3)}) target ≤ 0.200 ${mark(met.p99)}`,
    );
  }
  console.log(`every target met by one of the wire's modes (medians of ${roundsText}): ${metByOne ? 'yes' : 'no'}`);
  process.exitCode = metByOne ? 0 : 1;
} finally {
  await net?.close();
  await lab.cleanup();
}
