// Two groups: the receiver publishes its data address and counts 64-byte datagrams; the sender
// floods it for `seconds` (param) as fast as Node sends, then signals `flooded`; the receiver
// keeps listening 1.5 s more (the wire at rest again) and records what arrived.
import dgram from 'node:dgram';
import { run } from '../../dist/runtime/sdk.mjs';

await run(async (env) => {
  await env.network.waitReady();
  const socket = dgram.createSocket('udp4');
  if (env.group === 'receiver') {
    let received = 0;
    socket.on('message', () => received++);
    await new Promise((resolve) => socket.bind(9300, env.dataIp, resolve));
    await env.sync.publish('receiver', env.dataIp);
    await env.sync.barrier('flooded', 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    env.record('received', received);
  } else {
    const [ip] = await env.sync.subscribe('receiver').take(1);
    const datagram = Buffer.alloc(64);
    const end = Date.now() + Number(env.params.seconds) * 1000;
    let sent = 0;
    while (Date.now() < end) {
      for (let i = 0; i < 200; i++) socket.send(datagram, 9300, ip);
      sent += 200;
      await new Promise((resolve) => setImmediate(resolve));
    }
    env.record('sent', sent);
    await env.sync.signal('flooded');
  }
  socket.close();
});
