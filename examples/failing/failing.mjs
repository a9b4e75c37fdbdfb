// Everyone meets at a barrier; then the instance whose seq is `fail_seq` throws, the others
// wait for a state that never comes — the coordinator stops them when the failure is reported.
import { run } from 'tgc/sdk';

await run(async (env) => {
  await env.network.waitReady();
  await env.sync.signalAndWait('started');
  if (env.seq === env.params.fail_seq) throw new Error(`instance ${env.seq} fails on purpose`);
  await env.sync.barrier('never', env.instances + 1);
});
