import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from './helpers.js';

let reason: string | undefined | null = null;

/**
 * Why the Docker tests cannot run here, or undefined when they can. When they can, the images
 * they need are (re)built first: the runtime image from this host's files (no registry needed)
 * and the examples' image from this checkout.
 */
export function dockerSkipReason(): string | undefined {
  if (reason !== null) return reason;
  const docker = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
  if (docker.error)
    return (reason = 'needs Docker (apt-get install docker.io docker-compose; CI installs and starts it)');
  if (docker.status !== 0) return (reason = 'needs a running Docker daemon (CI starts dockerd)');
  const compose =
    spawnSync('docker', ['compose', 'version']).status === 0 ||
    spawnSync('docker-compose', ['version', '--short']).status === 0;
  if (!compose) return (reason = 'needs docker compose (v2) or docker-compose (v1.29)');
  // The runtime image is rebuilt when it is missing or was made by another script or tgc sync.
  const label = spawnSync(
    'docker',
    ['image', 'inspect', '--format', '{{index .Config.Labels "dev.tgc.made-from"}}', 'tgc-runtime:0.1.0'],
    { encoding: 'utf8' },
  );
  const syncBinary = join(repoRoot, 'dist/native/tgc-sync');
  const want = createHash('sha256')
    .update(readFileSync(join(repoRoot, 'images/offline-runtime.sh')))
    .update(existsSync(syncBinary) ? readFileSync(syncBinary) : Buffer.alloc(0))
    .digest('hex');
  if (label.status !== 0 || label.stdout.trim() !== want) {
    const built = spawnSync(join(repoRoot, 'images/offline-runtime.sh'), [], { encoding: 'utf8' });
    if (built.status !== 0) return (reason = `cannot build the runtime image: ${built.stderr.trim()}`);
  }
  execFileSync(join(repoRoot, 'images/build-examples.sh'), [], { stdio: 'ignore' });
  return (reason = undefined);
}

/** Containers, networks and volumes of one run, by its label (and the compose project for volumes). */
export function leftovers(runId: string): string[] {
  const list = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter(Boolean);
  return [
    ...list(['ps', '-a', '-q', '--filter', `label=dev.tgc.run=${runId}`]).map((c) => `container ${c}`),
    ...list(['network', 'ls', '-q', '--filter', `label=dev.tgc.run=${runId}`]).map((n) => `network ${n}`),
    ...list(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=tgc-${runId}`]).map(
      (v) => `volume ${v}`,
    ),
  ];
}

/** Every volume on the Docker host (anonymous ones carry no run label). */
export function allVolumes(): string[] {
  return execFileSync('docker', ['volume', 'ls', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

/**
 * An image for a test: the examples' image (node, sh) with `files` copied in (source path on this
 * machine → path in the image). Fails the test with docker's message when it does not build.
 */
export function buildTestImage(tag: string, files: Readonly<Record<string, string>>, cmd?: readonly string[]): void {
  const ctx = mkdtempSync(join(tmpdir(), 'tgc-image-'));
  try {
    const lines = ['FROM tgc-examples:latest'];
    Object.entries(files).forEach(([src, dest], i) => {
      cpSync(src, join(ctx, `f${i}`));
      lines.push(`COPY f${i} ${dest}`);
    });
    if (cmd) lines.push(`CMD ${JSON.stringify(cmd)}`);
    writeFileSync(join(ctx, 'Dockerfile'), lines.join('\n') + '\n');
    const built = spawnSync('docker', ['build', '-q', '-t', tag, ctx], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`docker build of ${tag} failed: ${built.stderr}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/**
 * An image without Node.js: busybox (from busybox-static) and its applets, plus `files` — what a
 * Go or Rust program's image looks like to tgc. Built with `docker import`, no registry needed.
 */
export function buildBusyboxImage(tag: string, files: Readonly<Record<string, string>>): void {
  const root = mkdtempSync(join(tmpdir(), 'tgc-rootfs-'));
  try {
    const busybox = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
    if (!busybox) throw new Error('busybox is not installed (apt-get install busybox-static)');
    for (const dir of ['bin', 'tmp', 'etc', 'proc', 'sys', 'dev']) mkdirSync(join(root, dir), { recursive: true });
    cpSync(busybox, join(root, 'bin/busybox'));
    for (const applet of ['sh', 'cat', 'wc', 'sleep', 'echo', 'test', 'env', 'grep'])
      symlinkSync('busybox', join(root, 'bin', applet));
    for (const [src, dest] of Object.entries(files)) {
      mkdirSync(join(root, dirname(dest)), { recursive: true });
      cpSync(src, join(root, dest));
    }
    const built = spawnSync(
      'sh',
      ['-c', `tar -C "$0" -c . | docker import -c 'ENV PATH=/usr/bin:/bin' - "$1"`, root, tag],
      { encoding: 'utf8' },
    );
    if (built.status !== 0) throw new Error(`docker import of ${tag} failed: ${built.stderr}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
