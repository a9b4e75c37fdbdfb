// Base images for the build tests, assembled from this machine's files (no registry is reachable
// in CI), and a real image registry (Debian's docker-registry) on loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { dockerSkipReason } from './docker-lab.js';

/** A Go toolchain image (Debian's golang-go), a busybox runtime with glibc, and node with npm. */
export const GO_IMAGE = 'tgc-test-golang:local';
export const RUNTIME_IMAGE = 'tgc-test-busybox:local';
export const NODE_IMAGE = 'tgc-test-node:local';

const APPLETS = ['sh', 'cat', 'cp', 'mv', 'rm', 'mkdir', 'ls', 'echo', 'test', '[', 'env', 'grep', 'touch', 'sleep'];

let reason: string | undefined | null = null;

/** Why the build tests cannot run here (no Docker, no Go), or undefined once their base images exist. */
export function buildLabSkipReason(): string | undefined {
  if (reason !== null) return reason;
  const docker = dockerSkipReason();
  if (docker) return (reason = docker);
  const goroot = spawnSync('go', ['env', 'GOROOT'], { encoding: 'utf8' });
  if (goroot.status !== 0) return (reason = 'needs Go (apt-get install golang-go; CI installs it)');
  const busybox = which('busybox');
  if (!busybox) return (reason = 'needs busybox (apt-get install busybox-static; CI installs it)');
  const root = goroot.stdout.trim();
  const go = join(root, 'bin', 'go');
  imported(
    GO_IMAGE,
    `go ${root}, dereferenced`,
    (dir) => {
      bin(dir, busybox);
      // Debian's GOROOT links src/ and the rest into /usr/share: copied as the files they point to.
      cpSync(root, join(dir, root), { recursive: true, dereference: true });
      libraries(dir, go);
      mkdirSync(join(dir, 'root'), { recursive: true });
    },
    [
      'ENV PATH=' + join(root, 'bin') + ':/usr/bin:/bin',
      'ENV HOME=/root',
      `ENV GOROOT=${root}`,
      'ENV GOFLAGS=-mod=mod',
    ],
  );
  // busybox with the C library, as Testground's default runtime image (busybox:1.35.0-glibc) has it.
  imported(
    RUNTIME_IMAGE,
    'busybox glibc',
    (dir) => {
      bin(dir, busybox);
      libraries(dir, go);
    },
    ['ENV PATH=/usr/bin:/bin'],
  );
  // node and npm: the runtime image's node, with this machine's npm beside it.
  const npm = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim();
  const ctx = mkdtempSync(join(tmpdir(), 'tgc-node-image-'));
  try {
    cpSync(join(npm, 'npm'), join(ctx, 'npm'), { recursive: true });
    writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM tgc-runtime:0.1.0\nCOPY npm /usr/lib/node_modules/npm\n' +
        // npm's scripts start with #!/usr/bin/env node; busybox has env in /bin.
        'RUN ln -s /usr/lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm && { [ -e /usr/bin/env ] || ' +
        'ln -s /bin/env /usr/bin/env; }\nENV HOME=/root\n',
    );
    const built = spawnSync('docker', ['build', '-q', '-t', NODE_IMAGE, ctx], { encoding: 'utf8' });
    if (built.status !== 0) return (reason = `cannot build ${NODE_IMAGE}: ${built.stderr}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return (reason = undefined);
}

function which(tool: string): string | undefined {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim() || undefined;
}

function bin(dir: string, busybox: string): void {
  for (const d of ['bin', 'usr/bin', 'tmp', 'etc', 'proc', 'sys', 'dev']) mkdirSync(join(dir, d), { recursive: true });
  cpSync(busybox, join(dir, 'bin/busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
}

/** The shared libraries `binary` loads, at their paths. */
function libraries(dir: string, binary: string): void {
  const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' }).stdout;
  for (const m of ldd.matchAll(/(?:=> )?(\/\S+) \(0x/g)) {
    mkdirSync(join(dir, dirname(m[1]!)), { recursive: true });
    cpSync(m[1]!, join(dir, m[1]!), { dereference: true });
  }
}

/** `docker import` of a root filesystem `fill` makes, unless an image made from the same `what` is there. */
function imported(tag: string, what: string, fill: (dir: string) => void, changes: string[]): void {
  const madeFrom = createHash('sha256')
    .update(`${what}\0${changes.join('\0')}\0${APPLETS.join(',')}`)
    .digest('hex');
  const label = spawnSync(
    'docker',
    ['image', 'inspect', '--format', '{{index .Config.Labels "dev.tgc.made-from"}}', tag],
    {
      encoding: 'utf8',
    },
  );
  if (label.status === 0 && label.stdout.trim() === madeFrom) return;
  const dir = mkdtempSync(join(tmpdir(), 'tgc-rootfs-'));
  try {
    fill(dir);
    const args = [...changes, `LABEL dev.tgc.made-from=${madeFrom}`].flatMap((c) => ['-c', c]);
    const r = spawnSync('sh', ['-c', 'tar -C "$0" -c . | docker import "$@" - "$TAG"', dir, ...args], {
      encoding: 'utf8',
      env: { ...process.env, TAG: tag },
    });
    if (r.status !== 0) throw new Error(`docker import of ${tag} failed: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A registry on 127.0.0.1 (Docker trusts loopback registries without TLS); `stop` removes it and its storage. */
export async function startRegistry(): Promise<{ address: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tgc-registry-'));
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n` +
      `http:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const address = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://${address}/v2/`);
      if (r.ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    address,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
