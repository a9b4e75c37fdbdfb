// The coordinator's relay into an instance's namespace (runtime/agent/relay.ts): a connection
// accepted on the namespace's loopback reaches the coordinator with a PROXY line naming the
// instance — also when the coordinator starts listening only after the instance connected (a
// program quicker than the coordinator's container must not see its connection closed).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { RELAY_PORT, relayInto } from '../../runtime/agent/relay.js';
import { NetLab, netSkipReason, nodeIn } from '../support/net-lab.js';
import { tempDir } from '../support/helpers.js';

const skip = netSkipReason();
const sockets = tempDir('tgc-relay-');

/** A port free on the host's loopback a moment ago. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Inside `netns`: connects to the relay, sends `hello`, prints what comes back until the end. */
function client(netns: string): Promise<{ code: number | null; out: string }> {
  const script =
    `const s = require('net').connect(${RELAY_PORT}, '127.0.0.1', () => s.write('hello\\n'));` +
    "let out = ''; s.on('data', (d) => (out += d)); s.on('close', () => process.stdout.write(out));" +
    "s.on('error', (e) => { console.error(e.message); process.exit(2); });";
  return nodeIn(netns, script);
}

test(
  'relay: a connection made before the coordinator listens waits for it, then carries the instance in its PROXY line',
  { skip: skip ?? false, timeout: 60_000 },
  async (t) => {
    const lab = NetLab.forTest(t);
    const ns = await lab.netns('r');
    const port = await freePort();
    const relay = await relayInto(`/run/netns/${ns}`, `127.0.0.1:${port}`, '198.18.0.9', `${ns}-t`, sockets);
    t.after(() => relay.close());
    const ran = client(ns);
    // The coordinator comes 1.5 s later: the client is connected (to the relay) by then.
    await new Promise((r) => setTimeout(r, 1500));
    let got = '';
    const server: Server = createServer((c) => {
      c.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.includes('hello\n')) c.end('welcome\n');
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    t.after(() => new Promise((r) => server.close(r)));
    const { code, out } = await ran;
    assert.equal(code, 0, out);
    assert.equal(out, 'welcome\n');
    assert.match(got, /^PROXY TCP4 198\.18\.0\.9 /);
    assert.match(got, /\r\nhello\n$/);
  },
);
