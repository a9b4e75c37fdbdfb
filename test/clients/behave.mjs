// An instance whose behaviour is its group's `mode` param: succeed, fail, crash (exit without
// an outcome), or hang (wait for a state that never comes).
import { run } from '../../dist/runtime/sdk.mjs';

await run(async (env) => {
  await env.network.waitReady();
  await env.sync.signalAndWait('started');
  const mode = env.params.mode;
  if (mode === 'fail') throw new Error('failing as asked');
  if (mode === 'crash') {
    console.log(`crashing at ${Date.now()}`);
    process.exit(3);
  }
  if (mode === 'hang') await env.sync.barrier('never', env.instances + 1);
});
