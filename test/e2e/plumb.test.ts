// The agent's data paths from one process (`tgc-sync plumb`, runtime/agent/plumber.ts): in a real
// network namespace, the TUN device data0 with its address, up; packets both ways between it and
// a wire's UDP socket; the coordinator's relay on the namespace's loopback; removal; the errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Plumber } from '../../runtime/agent/plumber.js';
import { RELAY_PORT, relayServer } from '../../runtime/agent/relay.js';
import { NetLab, netSkipReason, nodeIn } from '../support/net-lab.js';
import { repoRoot, tempDir } from '../support/helpers.js';

const run = promisify(execFile);
const binary = join(repoRoot, 'dist/native/tgc-sync');
const skip = netSkipReason() ?? (existsSync(binary) ? undefined : 'needs dist/native/tgc-sync (npm run build with Go)');
const sockets = tempDir('tgc-plumb-');

async function wireSocket(): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

test(
  'plumb: data0 in the namespace carries packets to and from the wire, and its relay reaches the coordinator',
  { skip: skip ?? false, timeout: 60_000 },
  async (t) => {
    const lab = NetLab.forTest(t);
    const ns = await lab.netns('p');
    const wire = await wireSocket();
    t.after(() => wire.close());
    const ended: string[] = [];
    const plumber = Plumber.start((why) => ended.push(why), binary);
    t.after(() => plumber.close());
    // The coordinator: answers the relayed connection with what its PROXY line said.
    let proxied = '';
    const coordinator: Server = createServer((c) =>
      c.once('data', (d: Buffer) => {
        proxied = d.toString();
        c.end('welcome\n');
      }),
    );
    await new Promise<void>((r) => coordinator.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => coordinator.close(r)));
    const socket = join(sockets, 'relay.sock');
    const server = await relayServer(
      `127.0.0.1:${(coordinator.address() as { port: number }).port}`,
      '198.18.9.5',
      socket,
    );
    t.after(() => server.close());

    const wirePort = (wire.address() as { port: number }).port;
    const request = { netns: `/run/netns/${ns}`, ip: '198.18.9.5', prefix: 16, wire: wirePort, relay: socket };
    const port = await plumber.add('p1', { ...request, listen: RELAY_PORT }, (why) => ended.push(why));
    assert.ok(port > 0);

    const addr = await run('ip', ['-n', ns, '-o', '-4', 'addr', 'show', 'dev', 'data0']);
    assert.match(addr.stdout, /inet 198\.18\.9\.5\/16 /);
    const link = await run('ip', ['-n', ns, 'link', 'show', 'dev', 'data0']);
    assert.match(link.stdout, /<[^>]*\bUP\b[^>]*>/);

    // Out: a datagram sent in the namespace to another address of the subnet reaches the wire,
    // whole (an IPv4 packet to 198.18.9.6), from the port the plumber named.
    const out = new Promise<{ msg: Buffer; from: number }>((resolve) =>
      wire.on('message', (msg, rinfo) => msg[0]! >> 4 === 4 && resolve({ msg, from: rinfo.port })),
    );
    const sent = await nodeIn(
      ns,
      "const s = require('dgram').createSocket('udp4'); s.send('out-1', 7000, '198.18.9.6', () => s.close());",
    );
    assert.equal(sent.code, 0, sent.out);
    const got = await out;
    assert.equal(got.from, port);
    assert.deepEqual([...got.msg.subarray(16, 20)], [198, 18, 9, 6]);
    assert.equal(got.msg.subarray(28).toString(), 'out-1');

    // In: the same packet, addressed back to the instance, comes out of data0.
    const listening = nodeIn(
      ns,
      "const s = require('dgram').createSocket('udp4'); s.bind(7001, '198.18.9.5');" +
        "s.on('message', (m) => { process.stdout.write(m.toString()); process.exit(0); });" +
        'setTimeout(() => process.exit(3), 10000);',
    );
    await new Promise((r) => setTimeout(r, 500));
    const back = Buffer.from(got.msg);
    back.set([198, 18, 9, 6], 12);
    back.set([198, 18, 9, 5], 16);
    back.writeUInt16BE(7001, 22);
    back.writeUInt16BE(0, 26); // no UDP checksum
    back.writeUInt16BE(0, 10);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += back.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    back.writeUInt16BE(~sum & 0xffff, 10);
    wire.send(back, port, '127.0.0.1');
    const received = await listening;
    assert.equal(received.code, 0, received.out);
    assert.equal(received.out, 'out-1');

    // The relay: a connection to the namespace's loopback reaches the coordinator as the instance.
    const relayed = await nodeIn(
      ns,
      `const s = require('net').connect(${RELAY_PORT}, '127.0.0.1', () => s.write('hello\\n'));` +
        "let o = ''; s.on('data', (d) => (o += d)); s.on('close', () => process.stdout.write(o));",
    );
    assert.equal(relayed.out, 'welcome\n');
    assert.match(proxied, /^PROXY TCP4 198\.18\.9\.5 /);

    // A second data path in the same namespace: data0 is taken, and the answer says so.
    await assert.rejects(
      plumber.add('p2', { ...request, listen: RELAY_PORT + 1 }, () => undefined),
      /data0.*busy/,
    );
    // Removed: the device goes with it; nothing reported as lost.
    plumber.remove('p1');
    for (const until = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 50))) {
      const links = await run('ip', ['-n', ns, '-o', 'link']);
      if (!links.stdout.includes('data0')) break;
      assert.ok(Date.now() < until, 'data0 is still there 5 s after its removal');
    }
    assert.deepEqual(ended, []);
  },
);

test(
  'plumb: a namespace that is not there is named in the error; the process ending is reported',
  { skip: skip ?? false, timeout: 30_000 },
  async (t) => {
    const wire = await wireSocket();
    t.after(() => wire.close());
    let ended = '';
    const plumber = Plumber.start((why) => (ended = why), binary);
    t.after(() => plumber.close());
    const request = {
      netns: '/run/netns/tgc-no-such-namespace',
      ip: '198.18.9.7',
      prefix: 16,
      wire: (wire.address() as { port: number }).port,
      relay: join(sockets, 'none.sock'),
      listen: RELAY_PORT,
    };
    await assert.rejects(
      plumber.add('x', request, () => undefined),
      /tgc-no-such-namespace.*no such file/,
    );
    await assert.rejects(
      plumber.add('y', { ...request, ip: 'nowhere' }, () => undefined),
      /an IPv4 ip/,
    );
    process.kill(plumber.pid!, 'SIGKILL');
    for (const until = Date.now() + 5000; !ended && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    assert.match(ended, /plumb was killed \(SIGKILL\)/);
    await assert.rejects(
      plumber.add('z', request, () => undefined),
      /killed/,
    );
  },
);
