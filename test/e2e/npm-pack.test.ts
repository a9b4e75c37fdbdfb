// tgc in a user's own project: `npm pack`, installed into an empty directory, where a plan whose
// program imports `tgc/sdk` runs (`npx tgc run`) and type-checks with tsc.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, tempDir } from '../support/helpers.js';

const npm = (args: string[], cwd: string) =>
  spawnSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd,
    encoding: 'utf8',
    timeout: 240_000,
  });

test(
  'npm pack: the tarball installs into an empty project; a plan there imports tgc/sdk, runs and type-checks',
  { timeout: 300_000 },
  () => {
    const dir = tempDir('tgc-pack-');
    execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: repoRoot, stdio: 'pipe' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');
    const project = join(dir, 'my-tests');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-tests', private: true, type: 'module' }));
    const installed = npm(['install', '-D', join(dir, tarball), 'typescript@5.9', '@types/node@20'], project);
    assert.equal(installed.status, 0, installed.stderr);

    writeFileSync(
      join(project, 'hello.ts'),
      `import { run, type RunEnv } from 'tgc/sdk';

async function test(env: RunEnv): Promise<void> {
  const count: number = await env.sync.signalAndWait('ready');
  env.record('arrival', count);
  env.message(\`\${env.name} of \${env.instances}\`);
}

await run(test);
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
        },
        include: ['hello.ts'],
      }),
    );
    const tsc = spawnSync(join(project, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: project, encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);

    // The same program as plain JavaScript, in a plan of the user's own.
    writeFileSync(
      join(project, 'hello.mjs'),
      "import { run } from 'tgc/sdk';\n" +
        "await run(async (env) => env.record('arrival', await env.sync.signalAndWait('ready')));\n",
    );
    writeFileSync(
      join(project, 'plan.toml'),
      'version = 1\nname = "my-first-plan"\n[[groups]]\nid = "hello"\ninstances = 2\ncommand = ["node", "hello.mjs"]\n',
    );
    const r = spawnSync(
      join(project, 'node_modules/.bin/tgc'),
      ['run', 'plan.toml', '--no-shaping', '--out', join(dir, 'run')],
      {
        cwd: project,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /PASS my-first-plan/);
    // The installed package renders the report too (its charting library comes with it).
    assert.doesNotMatch(r.stderr, /warning/);
    assert.match(readFileSync(join(dir, 'run', 'report.html'), 'utf8'), /uPlot/);
    assert.match(r.stdout, /hello\s+2\/2/);
  },
);
