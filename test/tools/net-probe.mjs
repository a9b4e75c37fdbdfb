// Measurement helpers run inside test network namespaces (`ip netns exec NS node net-probe.mjs …`).
// Each prints one JSON line with what it measured; `ready` lines tell the test a server is up.
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const num = (i) => Number(args[i]);

if (mode === 'echo') {
  // UDP echo: every datagram goes back to its sender.
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(num(0), () => out({ ready: true }));
} else if (mode === 'ping') {
  // ping HOST PORT COUNT INTERVAL_MS: UDP echo requests; RTT of each reply.
  const [host, port, count, interval] = [args[0], num(1), num(2), num(3)];
  const s = dgram.createSocket('udp4');
  const sentAt = new Map();
  const rtts = [];
  s.on('message', (m) => {
    const seq = m.readUInt32BE(0);
    const t0 = sentAt.get(seq);
    if (t0 !== undefined) {
      rtts.push(performance.now() - t0);
      sentAt.delete(seq);
    }
  });
  s.bind(0, () => {
    let seq = 0;
    const send = () => {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(seq);
      sentAt.set(seq, performance.now());
      s.send(b, port, host);
      if (++seq < count) setTimeout(send, interval);
      else
        setTimeout(() => (out({ sent: count, received: rtts.length, rtts }), process.exit(0)), Number(args[4] ?? 3000));
    };
    send();
  });
} else if (mode === 'sink') {
  // sink PORT MS: counts datagrams for MS after the first one arrives (or MS after start), and
  // how many of stream's numbered datagrams overtook one numbered lower (arrived before it).
  const s = dgram.createSocket('udp4');
  let received = 0;
  const order = [];
  s.on('message', (m) => {
    received++;
    if (m.length >= 4) order.push(m.readUInt32BE(0));
  });
  const overtakers = () => {
    let n = 0;
    let lowest = Infinity;
    for (let i = order.length - 1; i >= 0; i--) {
      if (order[i] > lowest) n++;
      lowest = Math.min(lowest, order[i]);
    }
    return n;
  };
  s.bind({ port: num(0) }, () => {
    s.setRecvBufferSize(8 * 1024 * 1024);
    out({ ready: true });
    setTimeout(() => (out({ received, overtakers: overtakers() }), process.exit(0)), num(1));
  });
} else if (mode === 'stream') {
  // stream HOST PORT COUNT INTERVAL_MS: COUNT datagrams numbered from 0, evenly spaced.
  const [host, port, count, interval] = [args[0], num(1), num(2), num(3)];
  const s = dgram.createSocket('udp4');
  s.bind(0, async () => {
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const due = start + i * interval;
      while (performance.now() < due) await new Promise((r) => setImmediate(r));
      const b = Buffer.alloc(100);
      b.writeUInt32BE(i);
      s.send(b, port, host);
    }
    setTimeout(() => (out({ sent: count }), process.exit(0)), 200);
  });
} else if (mode === 'connect') {
  // connect HOST PORT TIMEOUT_MS: one TCP connect; how long until it succeeded or failed, and how.
  const [host, port, timeout] = [args[0], num(1), num(2)];
  const t0 = performance.now();
  const done = (error) => {
    out({ ms: performance.now() - t0, error: error ?? null });
    process.exit(0);
  };
  const c = net.connect({ host, port }, () => done());
  c.on('error', (e) => done(e.code ?? e.message));
  setTimeout(() => done('timeout'), timeout);
} else if (mode === 'tcp-sink') {
  // tcp-sink PORT: one connection; bytes, the time from its first to its last byte, and how many
  // bytes were not the zeros tcp-send sends (damage that got past TCP's checksum).
  const zeros = Buffer.alloc(256 * 1024);
  const server = net.createServer((c) => {
    let bytes = 0;
    let first = 0;
    let damaged = 0;
    c.on('data', (d) => {
      if (!first) first = performance.now();
      bytes += d.length;
      for (let at = 0; at < d.length; at += zeros.length) {
        const part = d.subarray(at, at + zeros.length);
        if (!part.equals(zeros.subarray(0, part.length))) damaged += part.filter((x) => x !== 0).length;
      }
    });
    c.on('end', () => {
      out({ bytes, ms: performance.now() - first, damaged });
      process.exit(0);
    });
  });
  server.listen(num(0), () => out({ ready: true }));
} else if (mode === 'tcp-send') {
  // tcp-send HOST PORT BYTES
  const c = net.connect(num(1), args[0], () => {
    const chunk = Buffer.alloc(64 * 1024);
    let left = num(2);
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!c.write(chunk.subarray(0, n))) return void c.once('drain', pump);
      }
      c.end();
    };
    pump();
  });
  c.on('close', () => process.exit(0));
} else if (mode === 'flood') {
  // flood HOST PORT MS: as many small datagrams as this process can send, for MS.
  const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
  const payload = Buffer.alloc(64);
  let sent = 0;
  s.bind(0, () => {
    const end = performance.now() + num(2);
    const burst = () => {
      for (let i = 0; i < 256; i++) {
        s.send(payload, num(1), args[0]);
        sent++;
      }
      if (performance.now() < end) setImmediate(burst);
      else setTimeout(() => (out({ sent }), process.exit(0)), 300);
    };
    burst();
  });
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
