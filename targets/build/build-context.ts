import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { pack, type Pack } from 'tar-stream';

// A CommonJS module whose one export is the factory; its types describe it as `default`.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

/** One file of a build context, as the build sees it. */
export interface ContextEntry {
  /** Slash-separated, relative to the context root (with its prefix). */
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly mode: number;
  readonly size: number;
  readonly linkname?: string;
  /** Where to read a file's bytes. */
  readonly source?: string;
}

export interface BuildContext {
  readonly dir: string;
  readonly entries: readonly ContextEntry[];
  /** sha256 of every entry's path, type, mode and bytes: what the build can see. */
  readonly hash: string;
}

/**
 * tgc's own state directory is never part of a build: run directories in it change with every
 * run, and would change every build's hash with them.
 */
const ALWAYS_IGNORED = ['.tgc'];

/**
 * The files a `docker build` of `dir` sees: `.dockerignore` applied as Docker applies it
 * (Dockerfile and .dockerignore themselves always sent), placed under `prefix` (Testground's
 * `plan/` layout), sorted. Special files (sockets, devices) are left out, as Docker leaves them.
 */
export function readBuildContext(dir: string, prefix = ''): BuildContext {
  let ignore: ReturnType<typeof dockerignore> | undefined;
  try {
    ignore = dockerignore().add(readFileSync(join(dir, '.dockerignore'), 'utf8').split('\n'));
  } catch {
    ignore = undefined;
  }
  const entries: ContextEntry[] = [];
  const hash = createHash('sha256');
  const visit = (rel: string) => {
    const names = readdirSync(rel ? join(dir, rel) : dir).sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      if (!rel && ALWAYS_IGNORED.includes(name)) continue;
      const full = join(dir, path);
      const st = lstatSync(full);
      const ignored = ignore?.ignores(path) && !alwaysSent(path);
      // An ignored directory may still hold re-included files (`!dir/keep`): look inside it.
      if (st.isDirectory()) {
        if (!ignored) add(path, 'directory', st);
        visit(path);
      } else if (!ignored) {
        if (st.isFile()) add(path, 'file', st, full);
        else if (st.isSymbolicLink()) add(path, 'symlink', st, undefined, readlinkSync(full));
      }
    }
  };
  const add = (path: string, type: ContextEntry['type'], st: Stats, source?: string, linkname?: string) => {
    const inContext = prefix ? posix.join(prefix, path) : path;
    const mode = st.mode & 0o777;
    const entry: ContextEntry = {
      path: inContext,
      type,
      mode,
      size: type === 'file' ? st.size : 0,
      ...(linkname !== undefined && { linkname }),
      ...(source !== undefined && { source }),
    };
    entries.push(entry);
    hash.update(`${type}\0${inContext}\0${mode.toString(8)}\0${linkname ?? ''}\0`);
    if (source) hash.update(readFileSync(source));
    hash.update('\0');
  };
  const parts = prefix ? prefix.split('/') : [];
  parts.forEach((_, i) =>
    entries.push({ path: parts.slice(0, i + 1).join('/'), type: 'directory', mode: 0o755, size: 0 }),
  );
  visit('');
  return { dir, entries, hash: hash.update(prefix).digest('hex') };
}

function alwaysSent(path: string): boolean {
  return path === 'Dockerfile' || path === '.dockerignore';
}

/**
 * The context as a tar stream (what `docker build -` reads), with `extra` files added at the
 * root (a generated Dockerfile). Times are zero: the bytes depend on the contents alone.
 */
export function contextTar(context: BuildContext, extra: Readonly<Record<string, string>> = {}): Pack {
  const tar = pack();
  const mtime = new Date(0);
  for (const e of context.entries) {
    if (e.type === 'file') tar.entry({ name: e.path, mode: e.mode, mtime }, readFileSync(e.source!));
    else if (e.type === 'directory') tar.entry({ name: e.path, type: 'directory', mode: e.mode, mtime });
    else tar.entry({ name: e.path, type: 'symlink', linkname: e.linkname!, mode: e.mode, mtime });
  }
  for (const [name, text] of Object.entries(extra)) tar.entry({ name, mode: 0o644, mtime }, text);
  tar.finalize();
  return tar;
}
