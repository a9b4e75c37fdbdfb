import { mkdirSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { extract } from 'tar-stream';
import { sleep } from '../driver/exec.js';

/**
 * The outputs the shaping agents shipped to the coordinator (`/outputs`, a tar per instance as
 * the Docker API archives its outputs directory), unpacked into `dir/<instance>/`. Waits up to
 * 15 s for those of `names` (instances whose containers ran) to arrive; says which never did.
 */
export async function fetchOutputs(
  url: string,
  names: readonly string[],
  dir: string,
  say: (line: string) => void,
): Promise<void> {
  let shipped: Record<string, number> = {};
  for (const until = Date.now() + 15_000; ; await sleep(300)) {
    shipped = await fetch(`${url}/outputs`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => (r.ok ? (r.json() as Promise<Record<string, number>>) : {}),
      () => ({}),
    );
    if (names.every((n) => n in shipped) || Date.now() > until) break;
  }
  const missing = names.filter((n) => !(n in shipped));
  if (missing.length > 0) say(`tgc: no outputs arrived from ${missing.join(', ')}`);
  for (const name of names.filter((n) => n in shipped)) {
    mkdirSync(join(dir, name), { recursive: true });
    const r = await fetch(`${url}/outputs/${name}`, { signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
    if (!r?.ok) {
      say(`tgc: the outputs of ${name} could not be fetched (${r ? r.status : 'no answer'})`);
      continue;
    }
    await untar(Buffer.from(await r.arrayBuffer()), join(dir, name));
  }
}

/**
 * Unpacks a tar of one directory (its first path component dropped) into `into`: regular files
 * and directories only, none outside `into`.
 */
export function untar(tar: Buffer, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const x = extract();
    x.on('entry', (header, stream, next) => {
      const rel = normalize(header.name.split('/').slice(1).join('/'));
      const safe = rel !== '' && rel !== '.' && !rel.startsWith('..') && !rel.startsWith('/');
      const chunks: Buffer[] = [];
      stream.on('data', (d: unknown) => chunks.push(d as Buffer));
      stream.on('end', () => {
        if (safe && header.type === 'directory') mkdirSync(join(into, rel), { recursive: true });
        if (safe && header.type === 'file') {
          mkdirSync(join(into, rel, '..'), { recursive: true });
          writeFileSync(join(into, rel), Buffer.concat(chunks));
        }
        next();
      });
      stream.resume();
    });
    x.on('finish', resolve);
    x.on('error', reject);
    x.end(tar);
  });
}
