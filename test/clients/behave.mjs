// An instance whose behaviour is its group's `mode` param: succeed, fail, crash (killed by
// SIGKILL, no outcome), exit3 (exit code 3 without an outcome), hang (wait for a state that
// never comes), or paced (signal `a`, record `tick` five times 100 ms apart, signal `b`, 1000 ms
// later `c`: known spacing for the report's timeline).
import { run } from '../../dist/runtime/sdk.mjs';

await run(async (env) => {
  await env.network.waitReady();
  await env.sync.signalAndWait('started');
  const mode = env.params.mode;
  if (mode === 'fail') throw new Error('failing as asked');
  if (mode === 'crash') {
    console.log(`crashing at ${Date.now()}`);
    process.kill(process.pid, 'SIGKILL');
  }
  if (mode === 'exit3') {
    console.log('giving up: no quorum');
    process.exit(3);
  }
  if (mode === 'hang') await env.sync.barrier('never', env.instances + 1);
  if (mode === 'paced') {
    const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    await env.sync.signal('a');
    for (let i = 0; i < 5; i++) {
      env.record('tick', 10 * i + env.seq, 'ms');
      await pause(100);
    }
    await env.sync.signal('b');
    await pause(1000);
    await env.sync.signal('c');
  }
});
