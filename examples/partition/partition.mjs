// Checks the partition the plan makes, waits for the plan to heal it, checks again. Fails if any
// check does not hold. The network is the plan's business: nothing here changes it.
import dgram from 'node:dgram';
import { run } from 'tgc/sdk';

const PORT = 9100;

await run(async (env) => {
  await env.network.waitReady();
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, from) => echo.send(msg, from.port, from.address));
  await new Promise((resolve) => echo.bind(PORT, env.dataIp, resolve));
  const { subscription } = await env.sync.publishSubscribe('peers', {
    name: env.name,
    group: env.group,
    ip: env.dataIp,
  });
  const peers = (await subscription.take(env.instances)).filter((p) => p.name !== env.name);
  subscription.close();
  await env.sync.signalAndWait('listening');
  await env.sync.barrier('event:split', 1);

  const probe = dgram.createSocket('udp4');
  await new Promise((resolve) => probe.bind(0, env.dataIp, resolve));
  for (const p of peers) {
    const ok = await reachable(probe, p.ip);
    if (ok !== (p.group === env.group))
      throw new Error(`before healing, ${p.name} should be ${p.group === env.group ? '' : 'un'}reachable`);
  }
  await env.sync.signal('checked-split');
  await env.sync.barrier('event:heal', 1);
  for (const p of peers) {
    if (!(await reachable(probe, p.ip))) throw new Error(`after healing, ${p.name} is still unreachable`);
  }
  env.record('peers_reached_after_heal', peers.length);
  console.log(`${env.name}: split held, then all ${peers.length} peers reachable`);
  await env.sync.signalAndWait('done');
  probe.close();
  echo.close();
});

/** Whether `ip` echoes a datagram within 500 ms (three tries). */
async function reachable(socket, ip) {
  for (let i = 0; i < 3; i++) {
    const id = Buffer.from(`${Math.random()}`);
    const got = await new Promise((resolve) => {
      const t = setTimeout(() => (socket.off('message', on), resolve(false)), 500);
      const on = (m) => m.equals(id) && (clearTimeout(t), socket.off('message', on), resolve(true));
      socket.on('message', on);
      socket.send(id, PORT, ip);
    });
    if (got) return true;
  }
  return false;
}
