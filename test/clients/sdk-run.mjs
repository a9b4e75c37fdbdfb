// A test program using the bundled SDK with plain node: what it does is chosen by argv[2].
import { run } from '../../dist/runtime/sdk.mjs';

const mode = process.argv[2];
await run(async (env) => {
  env.record('seq', env.seq);
  env.message(`hello from ${env.name}, params ${JSON.stringify(env.params)}`);
  if (mode === 'succeed') return;
  if (mode === 'fail') throw new Error('expected 42, got 41');
  if (mode === 'exit') process.exit(0); // leaves without an outcome: a crash
  if (mode === 'wait') await env.sync.barrier('never', 1000); // until the run stops it
});
