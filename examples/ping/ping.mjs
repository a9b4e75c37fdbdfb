// The seed scenario: every runner publishes its data address, then pings every other runner
// over the data network (UDP echo) and records the median round trip as rtt_ms.
import dgram from 'node:dgram';
import { run } from 'tgc/sdk';

const ECHO_PORT = 9000;

await run(async (env) => {
  await env.network.waitReady();
  // Answer pings from the others for the whole run.
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, from) => echo.send(msg, from.port, from.address));
  await new Promise((resolve) => echo.bind(ECHO_PORT, env.dataIp, resolve));

  const { subscription } = await env.sync.publishSubscribe('addresses', { name: env.name, ip: env.dataIp });
  const peers = (await subscription.take(env.instances)).filter((p) => p.name !== env.name);
  subscription.close();
  await env.sync.signalAndWait('listening');

  const rounds = Number(env.params.rounds ?? 3);
  const pinger = dgram.createSocket('udp4');
  await new Promise((resolve) => pinger.bind(0, env.dataIp, resolve));
  for (const peer of peers) {
    const rtts = [];
    for (let i = 0; i < rounds; i++) rtts.push(await ping(pinger, peer.ip));
    rtts.sort((a, b) => a - b);
    const median = rtts[Math.floor(rtts.length / 2)];
    env.record('rtt_ms', median, 'ms');
    env.message(`${env.name} → ${peer.name} (${peer.ip}): ${rtts.map((r) => r.toFixed(1)).join(', ')} ms`);
    console.log(`rtt to ${peer.name}: ${median.toFixed(1)} ms (median of ${rounds})`);
  }
  pinger.close();
  // Keep answering until everyone has measured.
  await env.sync.signalAndWait('measured');
  echo.close();
});

/** One UDP echo round trip, in ms; gives up after 10 s. */
function ping(socket, ip) {
  return new Promise((resolve, reject) => {
    const id = Buffer.from(String(Math.random()));
    const t0 = performance.now();
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`no echo from ${ip} within 10 s`));
    }, 10_000);
    const onMessage = (msg) => {
      if (!msg.equals(id)) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(performance.now() - t0);
    };
    socket.on('message', onMessage);
    socket.send(id, ECHO_PORT, ip);
  });
}
