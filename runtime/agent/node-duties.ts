import { parseAddress } from '../../protocol/client.js';
import { DockerApi, DockerError } from './docker-api.js';

/**
 * Ships the outputs directory `dir` of an instance's container that ended (GET …/archive: a tar,
 * also of a stopped container) to the coordinator (`PUT /outputs/<instance>`), where the driver
 * fetches them: on a cluster it cannot read a node's containers itself. Resolves to what
 * happened, for the agent's log.
 */
export async function shipOutputs(
  docker: DockerApi,
  containerId: string,
  dir: string,
  coordinator: string,
  instance: string,
): Promise<string> {
  let tar: Buffer;
  try {
    tar = await docker.bytes(`/containers/${containerId}/archive?path=${encodeURIComponent(dir)}`);
  } catch (err) {
    if (err instanceof DockerError && err.status === 404) return `${instance}: no ${dir} to ship`;
    throw err;
  }
  const { host, port } = parseAddress(coordinator);
  const r = await fetch(`http://${host}:${port}/outputs/${instance}`, {
    method: 'PUT',
    body: new Uint8Array(tar),
    headers: { 'content-type': 'application/x-tar' },
    signal: AbortSignal.timeout(60_000),
  });
  if (!r.ok) throw new Error(`the coordinator refused ${instance}'s outputs: ${r.status} ${await r.text()}`);
  return `${instance}: outputs shipped (${tar.length} bytes)`;
}

/**
 * What the helper container runs (`node -e`): waits until no container of stack `argv[1]` is left
 * on this node (the agent's own included), then removes the stack's volumes here; at most 2 min.
 */
const REAP_SCRIPT = `
const http = require('node:http');
const stack = process.argv[1];
const call = (method, path) => new Promise((resolve) => {
  const req = http.request({ socketPath: '/var/run/docker.sock', method, path }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve(body));
  });
  req.on('error', () => resolve(''));
  req.end();
});
const filter = (f) => encodeURIComponent(JSON.stringify(f));
const label = { label: ['com.docker.stack.namespace=' + stack] };
(async () => {
  for (const until = Date.now() + 120000; Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
    const left = JSON.parse((await call('GET', '/containers/json?all=1&filters=' + filter(label))) || '[]');
    if (left.length === 0) break;
  }
  const volumes = JSON.parse((await call('GET', '/volumes?filters=' + filter(label))) || '{}').Volumes || [];
  for (const v of volumes) await call('DELETE', '/volumes/' + encodeURIComponent(v.Name));
})();
`;

/**
 * Removes stack `stack`'s volumes on this node once its containers are gone — after this agent's
 * own, which holds them: so a helper container does it (the agent's image, removed as it ends).
 */
export async function reapVolumesLater(
  docker: DockerApi,
  o: { readonly stack: string; readonly image: string; readonly socket: string; readonly runId: string },
): Promise<void> {
  const created = (await docker.call('POST', '/containers/create', {
    Image: o.image,
    Entrypoint: ['node', '-e', REAP_SCRIPT],
    Cmd: [o.stack],
    Labels: { 'dev.tgc.run': o.runId, 'dev.tgc.component': 'reaper' },
    HostConfig: { AutoRemove: true, Binds: [`${o.socket}:/var/run/docker.sock`], NetworkMode: 'none' },
  })) as { Id: string };
  await docker.call('POST', `/containers/${created.Id}/start`);
}
