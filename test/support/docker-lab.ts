import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  if (spawnSync('docker', ['image', 'inspect', 'tgc-runtime:0.1.0']).status !== 0) {
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
