// bench/local — a 200-instance barrier-storm run on the local target, timed.
//
// Runs examples/barrier-storm with 200 instances (`tgc run --json`) and reports, from its
// results.json: the time until all 200 had registered with the coordinator (counted from the
// coordinator's start, which follows the control bridge's creation), the slowest all-to-all
// exchange, and the whole run's wall time. Target: all registered in < 5 s on this machine.
// Baseline, measured in the same run: the floor any local run of Node instances sits on —
// 200 `node` processes started at once, each importing the SDK bundle and connecting to a
// TCP server on loopback, timed until the last has connected (no namespaces, no shaping).
// Needs root, iproute2 and socat; run: npm run bench:local.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 200);
const root = fileURLToPath(new URL('..', import.meta.url));
if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);

const dir = mkdtempSync(join(tmpdir(), 'tgc-bench-local-'));
try {
  const plan = readFileSync(join(root, 'examples/barrier-storm/plan.toml'), 'utf8').replace(
    /instances = \d+/,
    `instances = ${INSTANCES}`,
  );
  writeFileSync(join(dir, 'plan.toml'), plan);
  const floor = await nodeFloor(INSTANCES);
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [join(root, 'dist/tgc.mjs'), 'run', join(dir, 'plan.toml'), '--json', '--out', join(dir, 'run')],
    { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  const wall = Date.now() - t0;
  if (r.status !== 0) {
    console.error(`the run failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
    process.exit(1);
  }
  const results = JSON.parse(readFileSync(join(dir, 'run', 'results.json'), 'utf8'));
  const registered = Math.max(...results.instances.map((i: { registered_ms: number }) => i.registered_ms));
  const exchange = results.groups.peers.metrics.exchange_ms;
  console.log(`bench/local: barrier-storm, ${INSTANCES} instances, local target (${results.backend})`);
  console.log(
    `baseline              ${INSTANCES} node processes started at once, all connected after ` +
      `${(floor / 1000).toFixed(2)} s`,
  );
  console.log(
    `all registered        ${(registered / 1000).toFixed(2)} s after the coordinator started   ratio ` +
      `${(registered / floor).toFixed(2)}× the baseline   target < 5 s ${registered < 5000 ? 'ok' : 'MISSED'}`,
  );
  console.log(`all-to-all exchange   slowest ${exchange.max.toFixed(0)} ms, mean ${exchange.mean.toFixed(0)} ms`);
  console.log(`whole run (wall)      ${(wall / 1000).toFixed(2)} s, setup and teardown included`);
  process.exitCode = registered < 5000 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Milliseconds until `n` node processes, started at once, have each imported the SDK and
 * connected to a loopback server.
 */
async function nodeFloor(n: number): Promise<number> {
  const server = createServer((socket) => {
    connected++;
    socket.destroy();
    if (connected === n) done();
  });
  let connected = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const sdk = join(root, 'dist/runtime/sdk.mjs');
  const script =
    `await import(${JSON.stringify(sdk)}); (await import('node:net')).connect(${port}, ` +
    `'127.0.0.1').on('close', () => process.exit(0)).on('error', () => process.exit(1));`;
  const t0 = Date.now();
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' }),
  );
  await all;
  const ms = Date.now() - t0;
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  server.close();
  return ms;
}
