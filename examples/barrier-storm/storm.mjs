// Everyone meets at a barrier, then publishes its address and reads all of them.
import { run } from 'tgc/sdk';

await run(async (env) => {
  await env.network.waitReady();
  await env.sync.signalAndWait('ready');
  const t0 = performance.now();
  const { subscription } = await env.sync.publishSubscribe('peers', { name: env.name, ip: env.dataIp });
  const all = await subscription.take(env.instances);
  const ms = performance.now() - t0;
  if (new Set(all.map((p) => p.name)).size !== env.instances)
    throw new Error(`saw ${all.length} addresses, some twice`);
  env.record('exchange_ms', ms, 'ms');
  await env.sync.signalAndWait('done');
});
