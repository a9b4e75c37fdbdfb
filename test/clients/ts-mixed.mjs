// The TypeScript SDK's side of a mixed run (with test/clients/sdkgo-frames.mjs, mode mixed):
// the same barrier and topic, named as sdk-go names them.
import { run } from '../../dist/runtime/sdk.mjs';

await run(async (env) => {
  await env.sync.signalAndWait('ready', env.instances);
  const { subscription } = await env.sync.publishSubscribe('peers', { name: env.name, lang: 'ts' });
  const peers = await subscription.take(env.instances);
  env.message(
    `peers: ${peers
      .map((p) => p.lang)
      .sort()
      .join(',')}`,
  );
});
