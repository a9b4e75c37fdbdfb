// `tgc sync` in containers: a shell test using every subcommand on compose, in an image with
// Node.js and in one without (the runtime image's static executable); and how Kubernetes and
// Nomad instances get it — the init container / prestart task runs toolsCommand in the runtime
// image and the instance mounts the result as /usr/bin/tgc. No cluster runs here, so the same
// command and the same mount are run with Docker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { Coordinator } from '../../runtime/coordinator/coordinator.js';
import { toolsCommand } from '../../targets/tools-command.js';
import { buildBusyboxImage, buildTestImage, dockerSkipReason, leftovers } from '../support/docker-lab.js';
import { repoRoot, results, tempDir, tgcRun } from '../support/helpers.js';

const docker = dockerSkipReason();
const NODELESS = 'tgc-test-nodeless:latest';

function dockerRun(args: string[]) {
  return spawnSync('docker', ['run', '--rm', ...args], { encoding: 'utf8' });
}

test(
  'k8s/nomad tools: the runtime image hands its static tgc sync to an instance without Node.js, which uses it',
  { skip: docker ?? false, timeout: 120_000 },
  async (t) => {
    buildBusyboxImage(NODELESS, {});
    const tools = tempDir('tgc-tools-');
    const copied = dockerRun(['-v', `${tools}:/tgc/tools`, 'tgc-runtime:0.1.0', ...toolsCommand('/tgc/tools/tgc')]);
    assert.equal(copied.status, 0, copied.stderr);
    assert.ok(readFileSync(join(tools, 'tgc')).equals(readFileSync(join(repoRoot, 'dist/native/tgc-sync'))));

    const c = new Coordinator({ instances: 1, groups: { sh: 1 } });
    const port = await c.listen(0);
    t.after(() => c.close());
    const script = 'n=$(tgc sync signal up) && tgc sync record seen "$n" && tgc sync outcome success';
    // Not spawnSync: the coordinator answering it runs in this process.
    const ran = await execa(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'host',
        ...['-e', `TGC_COORDINATOR=127.0.0.1:${port}`, '-e', 'TGC_GROUP=sh', '-e', 'TGC_INSTANCE=sh-0'],
        '-v',
        `${join(tools, 'tgc')}:/usr/bin/tgc:ro`,
        NODELESS,
        'sh',
        '-c',
        script,
      ],
      { reject: false },
    );
    assert.equal(ran.exitCode, 0, ran.stderr);
    const results = await c.ended;
    assert.equal(results.instances[0]!.outcome, 'success');
    assert.equal(results.instances[0]!.metrics.seen!.last, 1);
  },
);

test(
  'k8s/nomad tools: a runtime image without the static tgc sync leaves a stand-in that says so and exits 3',
  { skip: docker ?? false, timeout: 120_000 },
  () => {
    buildBusyboxImage(NODELESS, {});
    const tools = tempDir('tgc-tools-');
    const copied = dockerRun(['-v', `${tools}:/tgc/tools`, NODELESS, ...toolsCommand('/tgc/tools/tgc')]);
    assert.equal(copied.status, 0, copied.stderr);
    const ran = dockerRun(['-v', `${join(tools, 'tgc')}:/usr/bin/tgc:ro`, NODELESS, 'tgc', 'sync', 'signal', 'x']);
    assert.equal(ran.status, 3);
    assert.match(ran.stderr, /the runtime image has no static tgc sync/);
  },
);

for (const nodeless of [false, true]) {
  test(
    `compose e2e: a test in shell with tgc sync alone, in containers ${nodeless ? 'without' : 'with'} Node.js`,
    { skip: docker ?? false, timeout: 300_000 },
    async () => {
      const image = nodeless ? 'tgc-test-shell-nonode:latest' : 'tgc-test-shell:latest';
      const files = { [join(repoRoot, 'test/clients/sync-shell.sh')]: '/app/sync-shell.sh' };
      if (nodeless) {
        // The runtime image's static tgc sync serves an image that has no node at all.
        buildBusyboxImage(image, files);
        const node = spawnSync('docker', ['run', '--rm', image, 'sh', '-c', 'command -v node'], { encoding: 'utf8' });
        assert.notEqual(node.status, 0, `the image has node: ${node.stdout}`);
      } else buildTestImage(image, files);
      const file = join(tempDir('tgc-plan-'), 'plan.toml');
      writeFileSync(
        file,
        `version = 1\nname = "shell"\n[[groups]]\nid = "sh"\ninstances = 3\nimage = "${image}"\n` +
          'command = ["/app/sync-shell.sh"]\n',
      );
      const r = await tgcRun(file, ['--target', 'compose']);
      assert.equal(r.code, 0, r.said);
      const res = results(r.out);
      assert.deepEqual(
        res.instances.map((i: { metrics: { arrival: { last: number } } }) => i.metrics.arrival.last).sort(),
        [1, 2, 3],
      );
      for (const i of res.instances) assert.match(i.messages[0], /^signal [123], gathered [123], published as [123]$/);
      assert.equal(res.timeline.filter((e: { event: string }) => e.event === 'configure').length, 3);
      assert.deepEqual(leftovers(/tgc: run (\S+) /.exec(r.stderr)![1]!), []);
    },
  );
}
