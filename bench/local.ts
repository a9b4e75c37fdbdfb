// bench/local — a 200-instance barrier-storm run on the local target, timed.
//
// Runs examples/barrier-storm with 200 instances (`tgc run --json`) and reports, from its
// results.json: the time until all 200 had registered with the coordinator (counted from the
// coordinator's start, which follows the control bridge's creation), the slowest all-to-all
// exchange, and the whole run's wall time. Target: all registered in < 5 s on this machine.
// Baseline, measured in the same run: the floor any local run of Node instances sits on —
// 200 `node` processes started at once, each importing the SDK bundle and connecting to a
// TCP server on loopback, timed until the last has connected (no namespaces, no shaping).
// The same run again as the user `nobody` (rootless: tgc in a user namespace of its own), figures
// side by side. Needs root (to become nobody), iproute2, util-linux; run: npm run bench:local.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 200);
const root = fileURLToPath(new URL('..', import.meta.url));
if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);

const dir = mkdtempSync(join(tmpdir(), 'tgc-bench-local-'));
// The rootless run is the user `nobody`'s: it needs /dev/net/tun at the mode distributions ship
// (0666; put back after) and a directory of its own.
const tunMode = statSync('/dev/net/tun').mode & 0o7777;
try {
  chmodSync(dir, 0o755);
  const plan = readFileSync(join(root, 'examples/barrier-storm/plan.toml'), 'utf8').replace(
    /instances = \d+/,
    `instances = ${INSTANCES}`,
  );
  writeFileSync(join(dir, 'plan.toml'), plan);
  const floor = await nodeFloor(INSTANCES);
  const asRoot = storm([]);
  chmodSync('/dev/net/tun', 0o666);
  const home = join(dir, 'nobody');
  mkdirSync(home);
  chownSync(home, 65534, 65534);
  const rootless = storm(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'env', `HOME=${home}`], home);
  console.log(`bench/local: barrier-storm, ${INSTANCES} instances, local target (${asRoot.backend})`);
  console.log(
    `baseline              ${INSTANCES} node processes started at once, all connected after ` +
      `${(floor / 1000).toFixed(2)} s`,
  );
  for (const [label, r] of [
    ['root', asRoot],
    ['rootless (nobody)', rootless],
  ] as const) {
    console.log(`— ${label}`);
    console.log(
      `all registered        ${(r.registered / 1000).toFixed(2)} s after the coordinator started   ratio ` +
        `${(r.registered / floor).toFixed(2)}× the baseline   target < 5 s ${r.registered < 5000 ? 'ok' : 'MISSED'}`,
    );
    console.log(`all-to-all exchange   slowest ${r.exchange.max.toFixed(0)} ms, mean ${r.exchange.mean.toFixed(0)} ms`);
    console.log(`whole run (wall)      ${(r.wall / 1000).toFixed(2)} s, setup and teardown included`);
  }
  process.exitCode = asRoot.registered < 5000 && rootless.registered < 5000 ? 0 : 1;
} finally {
  chmodSync('/dev/net/tun', tunMode);
  rmSync(dir, { recursive: true, force: true });
}

/** One `tgc run --json` of the plan, as root or (with `as`) as another user; its figures. */
function storm(as: readonly string[], home = dir) {
  const out = join(home, 'run');
  const t0 = Date.now();
  const argv = [...as, process.execPath, join(root, 'dist/tgc.mjs'), 'run', join(dir, 'plan.toml'), '--json'];
  const r = spawnSync(argv[0]!, [...argv.slice(1), '--out', out], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const wall = Date.now() - t0;
  if (r.status !== 0) {
    console.error(`the run failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
    process.exit(1);
  }
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const registered = Math.max(...results.instances.map((i: { registered_ms: number }) => i.registered_ms));
  const exchange = results.groups.peers.metrics.exchange_ms as { max: number; mean: number };
  return { backend: results.backend as string, registered, exchange, wall };
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
