// The checker of the scheduled-events tests, in step with the plan's [[events]] (the test
// writes the plan): it measures each event's effect from inside the data network and records
// it — srv-1 cut off while srv-0 answers, the checker→srv-0 link slowed, srv-1 back after the
// heal, then gone after the kill and back after the restart as a new process at its address;
// srv-0 frozen by the pause (connections accepted, never answered) and answering after the resume.
import { connect } from 'node:net';
import { run } from 'tgc/sdk';

/** One TCP exchange with a service: its answer and the connect time, or why it failed. */
function ask(host, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const started = performance.now();
    let connectedMs;
    let text = '';
    const s = connect({ host, port: 7000 });
    const done = (r) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ error: 'timeout' }), timeoutMs);
    s.on('connect', () => (connectedMs = performance.now() - started));
    s.on('data', (d) => (text += d));
    s.on('end', () => done({ answer: text.trim(), connectMs: connectedMs }));
    s.on('error', (err) => done({ error: err.code ?? err.message }));
  });
}

await run(async (env) => {
  const expect = (what, ok, got) => {
    env.message(`${what}: ${JSON.stringify(got)}`);
    if (!ok) throw new Error(`${what}: ${JSON.stringify(got)}`);
  };
  await env.network.waitReady();
  // The services started first, but may not listen yet.
  const up = async (host) => {
    let r = { error: 'never' };
    for (let i = 0; i < 100 && !r.answer; i++) {
      r = await ask(host);
      if (!r.answer) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return r;
  };
  const before = await up('srv-1');
  expect('before: srv-1 answers', before.answer, before);
  expect('before: srv-0 answers', (await up('srv-0')).answer, 'ok');
  await env.sync.signalAndWait('ready', 1);
  await env.sync.barrier('event:cut', 1);
  const cut = await ask('srv-1');
  expect('cut: srv-1 does not answer', cut.error === 'timeout', cut);
  const same = await ask('srv-0');
  expect('cut: srv-0, on this side, answers', same.answer, same);
  await env.sync.barrier('event:slow', 1);
  const slow = await ask('srv-0');
  expect('slow: srv-0 answers', slow.answer, slow);
  env.record('connect_ms', slow.connectMs, 'ms');
  if (env.params.time_the_link) expect('slow: 200 ms more to connect', slow.connectMs >= 195, slow.connectMs);
  await env.sync.signal('healing');
  await env.sync.barrier('event:heal', 1);
  const healed = await ask('srv-1');
  expect('heal: srv-1 answers again', healed.answer, healed);
  await env.sync.signal('killing');
  await env.sync.barrier('event:kill', 1);
  const killed = await ask('srv-1');
  expect('kill: srv-1 refuses connections', killed.error === 'ECONNREFUSED', killed);
  await env.sync.barrier('event:restart', 1);
  const back = await up('srv-1');
  const [token1, ip1] = healed.answer.split(' ');
  const [token2, ip2] = (back.answer ?? '').split(' ');
  expect('restart: srv-1 is a new process at the same address', token2 && token2 !== token1 && ip2 === ip1, back);
  await env.sync.signal('pausing');
  await env.sync.barrier('event:pause', 1);
  // Frozen: its kernel still accepts the connection; the process never answers.
  const frozen = await ask('srv-0', 1000);
  expect('pause: srv-0 accepts but does not answer', frozen.error === 'timeout' && frozen.answer === undefined, frozen);
  await env.sync.barrier('event:resume', 1);
  const thawed = await ask('srv-0', 3000);
  expect('resume: srv-0 answers again, the same process', thawed.answer === same.answer, thawed);
});
