// The receiver listens and publishes its address; the sender sends `bytes` over TCP; the
// receiver records the measured rate.
import net from 'node:net';
import { run } from 'tgc/sdk';

await run(async (env) => {
  await env.network.waitReady();
  const bytes = Number(env.params.bytes);
  if (env.group === 'receiver') {
    const done = new Promise((resolve) => {
      const server = net.createServer((c) => {
        let got = 0;
        let first = 0;
        c.on('data', (d) => {
          first ||= performance.now();
          got += d.length;
        });
        c.on('end', () => {
          const mbit = (got * 8) / ((performance.now() - first) / 1000) / 1e6;
          server.close();
          resolve(mbit);
        });
      });
      server.listen(9200, env.dataIp, () => env.sync.publish('receiver', env.dataIp));
    });
    const mbit = await done;
    env.record('mbit_s', mbit, 'Mbit/s');
    console.log(`received at ${mbit.toFixed(2)} Mbit/s`);
  } else {
    const [ip] = await env.sync.subscribe('receiver').take(1);
    await new Promise((resolve, reject) => {
      const c = net.connect(9200, ip, () => c.end(Buffer.alloc(bytes)));
      c.on('close', resolve);
      c.on('error', reject);
    });
  }
});
