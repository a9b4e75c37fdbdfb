// Testground's builders run by tgc (docs/testground.md, Builders): docker:go with every key,
// docker:generic, docker:node and kind = "go" built and run on compose; the content cache (a
// second run invokes no docker build; a changed source file does); a compiled compose tree
// that plain docker-compose builds and runs; images pushed to a real registry and named by the
// cluster manifests; bad input exits 3 naming the group, with nothing left behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildLabSkipReason, startRegistry } from '../support/build-lab.js';
import { bin, repoRoot, results, tempDir } from '../support/helpers.js';

const skip = buildLabSkipReason();
const fixtures = join(repoRoot, 'test/fixtures/builds');

interface Tgc {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tgc ARGS` in a child process; `env` over this process's environment. */
function tgc(args: string[], o: { env?: Record<string, string>; cwd?: string } = {}): Promise<Tgc> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], {
      cwd: o.cwd ?? repoRoot,
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `docker` first on PATH that logs every command line to `log`, then runs the real one. */
function countingDocker(): { env: Record<string, string>; calls: () => string[] } {
  const dir = tempDir('tgc-docker-log-');
  const log = join(dir, 'calls.log');
  const real = spawnSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\necho "$*" >> ${log}\nexec ${real} "$@"\n`);
  chmodSync(join(dir, 'docker'), 0o755);
  return {
    env: { PATH: `${dir}:${process.env.PATH}` },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

function containers(): string[] {
  return spawnSync('docker', ['ps', '-aq'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
}

function outputs(out: string, file: string): string[] {
  return readdirSync(join(out, 'outputs'))
    .sort()
    .map((d) => readFileSync(join(out, 'outputs', d, file), 'utf8').trim());
}

/** What `tgc build --json` says each group got. */
async function built(file: string, extra: string[] = []): Promise<Record<string, { image: string; cached: boolean }>> {
  const r = await tgc(['build', file, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(
    (JSON.parse(r.stdout) as { group: string; image: string; cached: boolean }[]).map((b) => [b.group, b]),
  );
}

function inImage(image: string, script: string): string {
  const r = spawnSync('docker', ['run', '--rm', '--entrypoint', 'sh', image, '-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test(
  'docker:go: built and run on compose; run again, no docker build and cached; a changed source file is rebuilt',
  { skip, timeout: 300_000 },
  async () => {
    const plan = join(tempDir('tgc-build-go-'), 'plan');
    cpSync(join(fixtures, 'docker-go/plan'), plan, { recursive: true });
    // A file of this run's own: the first build is a real one, whatever an earlier run cached.
    writeFileSync(join(plan, 'nonce.txt'), `${process.pid} ${Date.now()}\n`);
    const composition = join(plan, 'composition.toml');
    const first = await tgc(['run', composition, '--out', join(plan, '..', 'run1')]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(outputs(join(plan, '..', 'run1'), 'greeting.txt'), [
      'greeter v1: group fancy, fancy, no cgo',
      'greeter v1: group plain, plain, no cgo',
    ]);
    assert.match(first.stderr, /build plain │ /, "the builder's output, prefixed by group");
    // --image replaces a group's build: the dry run builds the other one only.
    const dry = await tgc(['run', composition, '--dry-run', '--image', 'plain=tgc-test-busybox:local']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^docker build .* -t tgc-build-greeter:[0-9a-f]{16} .*# fancy: /m);
    assert.doesNotMatch(dry.stdout, /# plain: /);

    const docker = countingDocker();
    const again = await tgc(['run', composition, '--out', join(plan, '..', 'run2')], { env: docker.env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      docker.calls().filter((c) => c.startsWith('build')),
      [],
    );
    assert.match(again.stderr, /build: plain cached \(tgc-build-greeter:[0-9a-f]{16}\)/);
    assert.match(again.stderr, /build: fancy cached \(tgc-build-greeter:[0-9a-f]{16}\)/);

    writeFileSync(join(plan, 'version.go'), 'package main\n\nconst version = "v2"\n');
    const changed = await tgc(['run', composition, '--out', join(plan, '..', 'run3')], { env: docker.env });
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(docker.calls().filter((c) => c.startsWith('build')).length, 2, 'both groups built again');
    assert.deepEqual(outputs(join(plan, '..', 'run3'), 'greeting.txt'), [
      'greeter v2: group fancy, fancy, no cgo',
      'greeter v2: group plain, plain, no cgo',
    ]);
    // --no-cache builds even what is cached.
    const forced = await built(composition, ['--no-cache']);
    assert.equal(forced.plain!.cached, false);
  },
);

test(
  "docker:go's keys: each Dockerfile hook's mark in order, a dependency as a replace, cgo, skip_runtime_image",
  { skip, timeout: 300_000 },
  async () => {
    const file = join(fixtures, 'docker-go/plan/keys.toml');
    const run = join(tempDir('tgc-build-keys-'), 'run');
    const r = await tgc(['run', file, '--out', run]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(outputs(run, 'greeting.txt'), [
      'greeter v1: group hooks, plain, no cgo',
      'greeter v1: group keys, plain, cgo',
    ]);
    const images = await built(file);
    assert.deepEqual(inImage(images.hooks!.image, 'cat /tgc-marks').trim().split('\n'), [
      'pre_mod_download',
      'post_mod_download',
      'pre_source_copy',
      'post_source_copy',
      'pre_build',
      'post_build',
      'pre_runtime_copy',
      'post_runtime_copy',
    ]);
    assert.equal(inImage(images.hooks!.image, 'test -e /plan/main.go || echo runtime only').trim(), 'runtime only');
    assert.match(
      inImage(images.keys!.image, 'cat /plan/go.mod'),
      /^replace example\.com\/dep => example\.com\/dep-fork v1\.2\.3$/m,
    );
    // skip_runtime_image: the build stage is the image (the toolchain and the sources in it).
    assert.match(inImage(images.keys!.image, 'command -v go && ls /testplan /plan/main.go'), /\/go\n/);
  },
);

test(
  'docker:generic with build args, docker:node, and kind = "go" in a tgc plan: built and run on compose',
  { skip, timeout: 300_000 },
  async () => {
    const generic = join(tempDir('tgc-build-generic-'), 'run');
    const g = await tgc(['run', join(fixtures, 'generic/plan/composition.toml'), '--out', generic]);
    assert.equal(g.code, 0, g.stderr);
    assert.deepEqual(outputs(generic, 'built-with.txt'), ['hello from a build arg · docker']);

    const node = join(tempDir('tgc-build-node-'), 'run');
    const n = await tgc(['run', join(fixtures, 'node/plan/composition.toml'), '--out', node]);
    assert.equal(n.code, 0, n.stderr);
    assert.deepEqual(outputs(node, 'started.txt'), ['start in /plan', 'start in /plan']);

    const go = join(tempDir('tgc-build-tgc-go-'), 'run');
    const k = await tgc(['run', join(fixtures, 'tgc-go/plan.toml'), '--target', 'compose', '--out', go]);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(results(go).outcome, 'success');
    assert.deepEqual(outputs(go, 'greeting.txt'), [
      'greeter v1: group gophers, fancy, no cgo',
      'greeter v1: group gophers, fancy, no cgo',
    ]);
  },
);

test(
  'tgc compile --target compose of a docker:go composition: plain docker-compose up --build builds and passes',
  { skip, timeout: 300_000 },
  async () => {
    const out = join(tempDir('tgc-build-compose-'), 'deploy');
    const c = await tgc([
      'compile',
      join(fixtures, 'docker-go/plan/composition.toml'),
      '--target',
      'compose',
      '-o',
      out,
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(readFileSync(join(out, 'build/fancy/Dockerfile'), 'utf8'), /-tags fancy/);
    const project = `tgcbuild${process.pid}`;
    const compose = (...args: string[]) =>
      spawnSync('docker-compose', ['-p', project, ...args], { cwd: out, encoding: 'utf8' });
    try {
      const up = compose('up', '-d', '--build');
      assert.equal(up.status, 0, up.stderr);
      const id = compose('ps', '-q', 'coordinator').stdout.trim();
      const waited = spawnSync('docker', ['wait', id], { encoding: 'utf8' });
      const logs = compose('logs', '--no-color');
      assert.equal(waited.stdout.trim(), '0', `the coordinator's exit code: every instance succeeded\n${logs.stdout}`);
      assert.match(logs.stdout, /greeter v1: group fancy, fancy, no cgo/);
      assert.match(logs.stdout, /greeter v1: group plain, plain, no cgo/);
    } finally {
      compose('down', '-v', '--rmi', 'local', '--timeout', '1');
    }
  },
);

test(
  'tgc build --push: the registry has the images; the k8s and nomad manifests name them there',
  { skip, timeout: 300_000 },
  async () => {
    const registry = await startRegistry();
    const file = join(fixtures, 'docker-go/plan/composition.toml');
    try {
      const images = await built(file, ['--push', registry.address]);
      const tags = (await (await fetch(`http://${registry.address}/v2/tgc-build-greeter/tags/list`)).json()) as {
        tags: string[];
      };
      for (const g of ['plain', 'fancy']) {
        const image = images[g]!.image;
        assert.ok(image.startsWith(`${registry.address}/tgc-build-greeter:`), image);
        assert.ok(tags.tags.includes(image.split(':').pop()!), `${image} in ${tags.tags.join(', ')}`);
      }
      for (const target of ['k8s', 'nomad']) {
        const out = join(tempDir(`tgc-build-${target}-`), 'deploy');
        const r = await tgc(['compile', file, '--target', target, '--push', registry.address, '-o', out]);
        assert.equal(r.code, 0, r.stderr);
        const text = readdirSync(out)
          .map((f) => readFileSync(join(out, f), 'utf8'))
          .join('\n');
        for (const g of ['plain', 'fancy'])
          assert.ok(text.includes(images[g]!.image), `${target} names ${images[g]!.image}`);
        // --check needs no build: the tags are the hashes of their inputs.
        const check = await tgc([
          'compile',
          file,
          '--target',
          target,
          '--push',
          registry.address,
          '-o',
          out,
          '--check',
        ]);
        assert.equal(check.code, 0, check.stderr);
      }
    } finally {
      await registry.stop();
      for (const image of Object.values(await built(file))) {
        spawnSync('docker', ['rmi', `${registry.address}/${image.image}`], { stdio: 'ignore' });
      }
    }
  },
);

test(
  'bad builds: a broken hook, a missing go.mod, no Docker → exit 3 naming the group; nothing left',
  { skip, timeout: 300_000 },
  async () => {
    const plan = join(tempDir('tgc-build-bad-'), 'plan');
    cpSync(join(fixtures, 'docker-go/plan'), plan, { recursive: true });
    const before = containers();
    const broken = join(plan, 'broken.toml');
    writeFileSync(
      broken,
      readFileSync(join(plan, 'composition.toml'), 'utf8').replace(
        '[[groups]]\nid = "plain"\ninstances = { count = 1 }',
        '[[groups]]\nid = "plain"\ninstances = { count = 1 }\n  [groups.build_config.dockerfile_extensions]\n' +
          '  pre_build = "RUN echo the hook breaks && exit 7"',
      ),
    );
    const out = join(plan, '..', 'run');
    const r = await tgc(['run', broken, '--out', out]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /the build of group "plain" failed \(docker build, exit code \d+\)/);
    assert.match(r.stderr, /returned a non-zero code: 7/);
    assert.ok(!existsSync(out), 'no run directory');
    assert.deepEqual(containers(), before, 'no container left, build containers included');

    const nomod = join(plan, 'nomod.toml');
    mkdirSync(join(plan, 'sub'));
    writeFileSync(
      nomod,
      readFileSync(join(plan, 'composition.toml'), 'utf8').replace(
        '[global.build_config]',
        '[global.build_config]\npath = "sub"',
      ),
    );
    const m = await tgc(['build', nomod]);
    assert.equal(m.code, 3, m.stderr);
    assert.match(m.stderr, new RegExp(`group "plain" is a Go image and ${join(plan, 'sub/go.mod')} does not exist`));

    const noDaemon = await tgc(['build', join(plan, 'composition.toml')], {
      env: { DOCKER_HOST: `unix://${join(plan, 'no-such.sock')}` },
    });
    assert.equal(noDaemon.code, 3, noDaemon.stderr);
    assert.match(noDaemon.stderr, /building images needs a Docker daemon \(.*\): install Docker .* and start it/);
    const noDocker = await tgc(['run', join(plan, 'composition.toml')], { env: { PATH: '/nonexistent' } });
    assert.equal(noDocker.code, 3, noDocker.stderr);
    assert.match(noDocker.stderr, /building images needs a Docker daemon \(docker is not on PATH\)/);
    assert.deepEqual(containers(), before);
  },
);
