// What a build sees and hashes (targets/build/): .dockerignore as Docker applies it, tgc's own
// .tgc/ left out, Testground's plan/ prefix; the generated Dockerfiles, stage by stage.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileText } from '../../compiler/pipeline.js';
import { readBuildContext } from '../../targets/build/build-context.js';
import { generatedDockerfile } from '../../targets/build/dockerfiles.js';
import { baseImages } from '../../targets/build/plan-builds.js';
import { tempDir } from '../support/helpers.js';

function tree(files: Record<string, string>): string {
  const dir = tempDir('tgc-context-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('the context: .dockerignore applied (with exceptions), .tgc/ left out, sorted, under a prefix', () => {
  const dir = tree({
    'main.go': 'package main',
    'logs/a.log': 'x',
    'vendor/keep/k.go': 'k',
    'vendor/drop/d.go': 'd',
    '.tgc/runs/1/results.json': '{}',
    '.dockerignore': 'logs\nvendor\n!vendor/keep\n',
  });
  const files = (prefix?: string) =>
    readBuildContext(dir, prefix)
      .entries.filter((e) => e.type === 'file')
      .map((e) => e.path);
  assert.deepEqual(files(), ['.dockerignore', 'main.go', 'vendor/keep/k.go']);
  assert.deepEqual(files('plan'), ['plan/.dockerignore', 'plan/main.go', 'plan/vendor/keep/k.go']);
});

test('the hash: a changed file that the build sees changes it; an ignored one, or a run directory, does not', () => {
  const dir = tree({ 'main.go': 'package main', 'notes/n.txt': 'a', '.dockerignore': 'notes\n' });
  const before = readBuildContext(dir).hash;
  writeFileSync(join(dir, 'notes/n.txt'), 'b');
  mkdirSync(join(dir, '.tgc/runs/2'), { recursive: true });
  writeFileSync(join(dir, '.tgc/runs/2/results.json'), '{}');
  assert.equal(readBuildContext(dir).hash, before);
  writeFileSync(join(dir, 'main.go'), 'package main // changed');
  assert.notEqual(readBuildContext(dir).hash, before);
  assert.notEqual(readBuildContext(dir, 'plan').hash, readBuildContext(dir).hash, 'the prefix is an input');
});

function build(spec: string) {
  const r = compileText(
    'plan.toml',
    `version = 1\nname = "b"\n[[groups]]\nid = "g"\ninstances = 1\n[groups.build]\ncontext = "."\n${spec}\n`,
    'toml',
  );
  assert.ok(r.plan, JSON.stringify(r.diagnostics.items));
  return r.plan.groups[0]!.build!;
}

test("the generated Go Dockerfile: Testground's stages and hook points in order, tags, replaces, cgo", () => {
  const hooks = ['pre_mod_download', 'post_mod_download', 'pre_source_copy', 'post_source_copy', 'pre_build'];
  const b = build(
    'kind = "go"\npath = "cmd/"\nexec_pkg = "./node"\nenable_cgo = true\ntags = ["a", "b"]\n' +
      'replace = [{ module = "example.com/m", version = "v1.0.0", target = "example.com/fork" }]\n' +
      'dockerfile_extensions = { ' +
      [...hooks, 'post_build', 'pre_runtime_copy', 'post_runtime_copy']
        .map((h) => `${h} = "RUN echo ${h}"`)
        .join(', ') +
      ' }',
  );
  const text = generatedDockerfile(b, 'header')!;
  const lines = text.split('\n');
  const at = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    assert.ok(i >= 0, `${needle} in:\n${text}`);
    return i;
  };
  assert.equal(lines[0], '# header');
  const order = [
    'FROM golang:1.16-buster AS builder',
    'RUN echo pre_mod_download',
    'COPY ["cmd/go.mod","cmd/go.su[m]","/plan/cmd/"]',
    '-replace=example.com/m=example.com/fork@v1.0.0',
    'go mod download',
    'RUN echo post_mod_download',
    'RUN echo pre_source_copy',
    'COPY . /plan/',
    'RUN echo post_source_copy',
    'RUN echo pre_build',
    'CGO_ENABLED=1 GOOS=linux go build -o /plan/cmd/testplan.bin -tags a,b ./node',
    'RUN echo post_build',
    'go list -m all > /testground_dep_list',
    'FROM busybox:1.35.0-glibc',
    'RUN echo pre_runtime_copy',
    'COPY --from=builder ["/plan/cmd/testplan.bin","/testplan"]',
    'RUN echo post_runtime_copy',
    'ENTRYPOINT ["/testplan"]',
  ].map(at);
  assert.deepEqual(
    order,
    [...order].sort((x, y) => x - y),
  );
  assert.deepEqual(baseImages(b, text), ['golang:1.16-buster', 'busybox:1.35.0-glibc']);
  // skip_runtime_image: one stage, the program copied within it.
  const one = generatedDockerfile(build('kind = "go"\nskip_runtime_image = true'))!;
  assert.equal(one.match(/^FROM /gm)!.length, 1);
  assert.match(one, /^RUN cp \/plan\/testplan\.bin \/testplan$/m);
});

test('the generated Node.js Dockerfile, and the base images of a Dockerfile of the plan own', () => {
  assert.equal(
    generatedDockerfile(build('kind = "node"\nbase_image = "node:20"')),
    'FROM node:20\nWORKDIR /plan\nCOPY . /plan/\nRUN npm ci\nEXPOSE 6060\nENTRYPOINT ["npm", "start"]\n',
  );
  const own = build('args = { BASE = "debian:12" }');
  assert.equal(generatedDockerfile(own), undefined);
  assert.deepEqual(
    baseImages(
      own,
      'ARG BASE=alpine\nARG RUN=busybox\nFROM ${BASE} AS build\nFROM build AS test\nFROM $RUN\nFROM scratch\n',
    ),
    ['debian:12', 'busybox'],
  );
});
