import { posix } from 'node:path';
import type { Build, GoBuild } from '../../schema/ir.js';
import { shellWord } from '../../model/shell-word.js';

// The Dockerfiles tgc writes for builds that have none of their own: Testground's docker:go
// recipe (its stages and hook points, in its order) and its docker:node one. The context's
// files land under /plan, as Testground puts them.

/** The generated Dockerfile of a `go` or `node` build; undefined for a build with its own Dockerfile. */
export function generatedDockerfile(build: Build, header?: string): string | undefined {
  const lines = build.kind === 'go' ? goDockerfile(build) : build.kind === 'node' ? nodeDockerfile(build) : undefined;
  if (!lines) return undefined;
  return [...(header ? [`# ${header}`] : []), ...lines].join('\n') + '\n';
}

/** What a generated Dockerfile runs (its ENTRYPOINT); undefined for a build with its own Dockerfile. */
export function generatedEntrypoint(build: Build): readonly string[] | undefined {
  return build.kind === 'go' ? GO_ENTRYPOINT : build.kind === 'node' ? NODE_ENTRYPOINT : undefined;
}

const GO_ENTRYPOINT = ['/testplan'];
const NODE_ENTRYPOINT = ['npm', 'start'];

function nodeDockerfile(build: Build): string[] {
  return [
    `FROM ${build.baseImage}`,
    'WORKDIR /plan',
    'COPY . /plan/',
    'RUN npm ci',
    'EXPOSE 6060',
    `ENTRYPOINT ${execForm(NODE_ENTRYPOINT)}`,
  ];
}

/** A command in a Dockerfile's exec (JSON) form, as Testground writes it: `["npm", "start"]`. */
function execForm(argv: readonly string[]): string {
  return `[${argv.map((a) => JSON.stringify(a)).join(', ')}]`;
}

/** COPY in its JSON form: paths with spaces or brackets need no quoting there. */
function copyJson(...paths: string[]): string {
  return `COPY ${JSON.stringify(paths)}`;
}

function goDockerfile(build: Build): string[] {
  const go = build.go as GoBuild;
  const dir = posix.join('/plan', go.path);
  const hook = (name: keyof GoBuild['hooks']) => {
    const text = go.hooks[name];
    return text ? [`# dockerfile_extensions.${name}`, ...text.replace(/\n+$/, '').split('\n')] : [];
  };
  // go.mod as the build uses it: the plan's (or modfile), or a fresh one, with the replaces.
  const mod: string[] = go.freshModule
    ? [`RUN mkdir -p ${shellWord(dir)} && cd ${shellWord(dir)} && go mod init ${shellWord(go.freshModule)}`]
    : go.modfile
      ? modfileLines(go.modfile, dir)
      : [copyJson(posix.join(go.path, 'go.mod'), posix.join(go.path, 'go.su[m]'), `${dir}/`)];
  const replaces = go.replace.map((r) => `-replace=${r.module}=${r.target ?? r.module}@${r.version}`);
  const goEnv = [`CGO_ENABLED=${go.cgo ? 1 : 0}`, 'GOOS=linux'];
  const buildCmd = [
    'go',
    'build',
    '-o',
    `${dir}/testplan.bin`,
    ...(go.tags.length > 0 ? ['-tags', go.tags.join(',')] : []),
    go.execPkg,
  ];
  const lines = [
    `FROM ${build.baseImage} AS builder`,
    // GOPROXY: the plan's, else the environment's (passed as this build argument), else Go's default.
    `ARG GO_PROXY=${go.proxy ?? ''}`,
    'ENV GOPROXY=${GO_PROXY}',
    ...hook('pre_mod_download'),
    ...mod,
    ...(replaces.length > 0 ? [`RUN cd ${shellWord(dir)} && go mod edit ${replaces.map(shellWord).join(' ')}`] : []),
    // The module files as prepared are kept aside: the source copy below must not undo them.
    `RUN cd ${shellWord(dir)} && go mod download && mkdir -p /tgc-mod && cp go.mod /tgc-mod/ && ` +
      '{ [ ! -f go.sum ] || cp go.sum /tgc-mod/; }',
    ...hook('post_mod_download'),
    ...hook('pre_source_copy'),
    'COPY . /plan/',
    `RUN cp /tgc-mod/go.* ${shellWord(`${dir}/`)}${go.freshModule ? ` && cd ${shellWord(dir)} && go mod tidy` : ''}`,
    ...hook('post_source_copy'),
    ...hook('pre_build'),
    `RUN cd ${shellWord(dir)} && ${goEnv.join(' ')} ${buildCmd.map(shellWord).join(' ')}`,
    ...hook('post_build'),
    `RUN cd ${shellWord(dir)} && go list -m all > /testground_dep_list`,
  ];
  const copy = go.skipRuntimeImage
    ? [
        ...hook('pre_runtime_copy'),
        `RUN cp ${shellWord(`${dir}/testplan.bin`)} /testplan`,
        ...hook('post_runtime_copy'),
      ]
    : [
        `FROM ${go.runtimeImage}`,
        ...hook('pre_runtime_copy'),
        'COPY --from=builder /testground_dep_list /testground_dep_list',
        `COPY --from=builder ${JSON.stringify([`${dir}/testplan.bin`, '/testplan'])}`,
        ...hook('post_runtime_copy'),
      ];
  return [...lines, ...copy, 'EXPOSE 6060', `ENTRYPOINT ${execForm(GO_ENTRYPOINT)}`];
}

/** `modfile` (and the .sum beside it, when there is one) as the module's go.mod and go.sum. */
function modfileLines(modfile: string, dir: string): string[] {
  const base = posix.basename(modfile);
  const sum = `${base.replace(/\.mod$/, '')}.sum`;
  // The .sum through a glob: COPY fails on a missing file, not on a pattern matching nothing.
  const sumGlob = posix.join(posix.dirname(modfile), `${sum.slice(0, -1)}[${sum.slice(-1)}]`);
  const [mod, copiedSum] = [shellWord(`/tgc-modfile/${base}`), shellWord(`/tgc-modfile/${sum}`)];
  return [
    copyJson(modfile, sumGlob, '/tgc-modfile/'),
    `RUN mkdir -p ${shellWord(dir)} && cp ${mod} ${shellWord(`${dir}/go.mod`)} && ` +
      `{ [ ! -f ${copiedSum} ] || cp ${copiedSum} ${shellWord(`${dir}/go.sum`)}; }`,
  ];
}
