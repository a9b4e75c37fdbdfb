// The mark classification measured from inside 60 instances in 6 groups (g0..g5, group gi's
// egress at (i+1)×2 Mbit/s, g0 → g5 blocked): gi-0 sends to g(i+1)-0 (g5-0 to g1-1) for 3 s
// and the receiver records the rate by the sender's group; g0-2 → g5-1 must not connect,
// g1-2 → g5-2 and g0-3 → g4-3 must; g2-5 first sets its own egress to 3 Mbit/s (configure: it
// then shapes at the source, marked so that receivers leave it be) and sends to g4-5; g3-0 counts
// the shaping rules in its namespace.
import { execFileSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { run } from 'tgc/sdk';

const SECONDS = 3;
const SENDS = {
  ...{ 'g0-0': 'g1-0', 'g1-0': 'g2-0', 'g2-0': 'g3-0', 'g3-0': 'g4-0', 'g4-0': 'g5-0', 'g5-0': 'g1-1' },
  'g2-5': 'g4-5',
};
const PROBES = { 'g0-2': ['g5-1', false], 'g1-2': ['g5-2', true], 'g0-3': ['g4-3', true] };

await run(async (env) => {
  await env.network.waitReady();
  const received = new Promise((resolve) => {
    createServer((s) => {
      let bytes = 0;
      let first = 0;
      s.on('data', (d) => {
        first ||= performance.now();
        bytes += d.length;
      });
      s.on('end', () => resolve({ bytes, ms: performance.now() - first }));
    }).listen(7100, '0.0.0.0');
  });
  if (env.name === 'g2-5') await env.network.configure({ bandwidth: '3Mbit' });
  await env.sync.signalAndWait('listening');
  const to = SENDS[env.name];
  if (to) {
    await new Promise((resolve, reject) => {
      const s = connect({ host: to, port: 7100 }, () => {
        const buf = Buffer.alloc(16384);
        const end = performance.now() + SECONDS * 1000;
        const pump = () => {
          while (performance.now() < end) if (!s.write(buf)) return void s.once('drain', pump);
          s.end(resolve);
        };
        pump();
      });
      s.on('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error(`${to} did not take the transfer within 10 s`)));
    });
  }
  const from = Object.entries(SENDS).find(([, dst]) => dst === env.name)?.[0];
  if (from) {
    const { bytes, ms } = await received;
    env.record(`mbit_from_${from === 'g2-5' ? from : from.split('-')[0]}`, (bytes * 8) / (ms * 1000), 'Mbit/s');
  }
  const probe = PROBES[env.name];
  if (probe) {
    const [host, should] = probe;
    const ok = await new Promise((resolve) => {
      const s = connect({ host, port: 7100 });
      const t = setTimeout(() => (s.destroy(), resolve(false)), 1500);
      s.on('connect', () => (clearTimeout(t), s.destroy(), resolve(true)));
      s.on('error', () => (clearTimeout(t), resolve(false)));
    });
    if (ok !== should) throw new Error(`${env.name} → ${host}: ${ok ? 'connected' : 'no connection'}`);
    env.message(`${env.name} → ${host}: ${ok ? 'delivered' : 'dropped'}`);
  }
  if (env.name === 'g3-0') {
    const lines = (cmd, args) =>
      execFileSync(cmd, args, { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.trim());
    // u32 prints a few lines per filter; its rules are the `fh …::…` ones.
    const filters = [
      ...lines('tc', ['filter', 'show', 'dev', 'data0', 'ingress']),
      ...lines('tc', ['filter', 'show', 'dev', 'tgcifb0']),
    ].filter((l) => / fh \S+::\S+ /.test(l));
    const classes = lines('tc', ['class', 'show', 'dev', 'tgcifb0']).filter((l) => l.startsWith('class '));
    const ipt = [...lines('iptables', ['-t', 'mangle', '-S', 'TGC-MARK']), ...lines('iptables', ['-S', 'TGC-DROP'])];
    env.record('tc_filters', filters.length);
    env.record('tc_classes', classes.length);
    env.record('iptables_rules', ipt.filter((l) => l.startsWith('-A')).length);
  }
  await env.sync.signalAndWait('done');
});
