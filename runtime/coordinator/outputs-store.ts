import type { IncomingMessage, ServerResponse } from 'node:http';

/** The most one instance's outputs may weigh when shipped to the coordinator. */
export const MAX_OUTPUTS_BYTES = 256 * 1024 * 1024;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Instances' outputs shipped to the coordinator over the control network (a tar each, as the
 * Docker API's archive gives it), for the driver to fetch when the run ends: where outputs
 * cannot be read from the nodes themselves (swarm). Kept in memory, the last upload of an
 * instance winning (a restarted instance ships again when it ends).
 */
export class OutputsStore {
  private readonly tars = new Map<string, Buffer>();

  /** `PUT /outputs/<instance>` (a tar), `GET /outputs` (names and sizes), `GET /outputs/<instance>`. */
  serve(req: IncomingMessage, res: ServerResponse, rest: string): void {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
    };
    if (rest === '' && req.method === 'GET')
      return send(200, Object.fromEntries([...this.tars].map(([name, tar]) => [name, tar.length])));
    if (!NAME.test(rest)) return send(404, { error: 'say /outputs/<instance>, with an instance name' });
    if (req.method === 'GET') {
      const tar = this.tars.get(rest);
      if (!tar) return send(404, { error: `no outputs of ${rest} (yet)` });
      res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': tar.length });
      return void res.end(tar);
    }
    if (req.method !== 'PUT') return send(405, { error: 'GET or PUT' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_OUTPUTS_BYTES) {
        send(413, { error: `the outputs of ${rest} weigh more than ${MAX_OUTPUTS_BYTES} bytes` });
        req.destroy();
      } else chunks.push(d);
    });
    req.on('end', () => {
      if (size > MAX_OUTPUTS_BYTES) return;
      this.tars.set(rest, Buffer.concat(chunks));
      send(200, { bytes: size });
    });
  }
}
