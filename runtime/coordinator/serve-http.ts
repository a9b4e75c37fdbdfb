import type { IncomingMessage, ServerResponse } from 'node:http';
import { metricsText } from './metrics-text.js';
import type { RunState } from './run-state.js';
import type { OutputsStore } from './outputs-store.js';

/**
 * HTTP on the coordinator's port: `/healthz`, `/status`, `/results`, `/metrics` (Prometheus), and
 * `/outputs` (instances' outputs shipped by the shaping agents, where the driver cannot read them).
 */
export function serveHttp(run: RunState, req: IncomingMessage, res: ServerResponse, outputs?: OutputsStore): void {
  const path = (req.url ?? '/').split('?')[0]!;
  if (outputs && (path === '/outputs' || path.startsWith('/outputs/')))
    return outputs.serve(req, res, path.slice('/outputs/'.length));
  const head = req.method === 'HEAD';
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(head ? undefined : JSON.stringify(body, null, 2) + '\n');
  };
  if (req.method !== 'GET' && !head) return json(405, { error: 'only GET and HEAD' });
  switch (path) {
    case '/healthz':
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(head ? undefined : 'ok\n');
    case '/status':
      return json(200, run.status());
    case '/results':
      return run.result
        ? json(200, run.result)
        : json(409, { error: 'the run has not ended yet; see /status', status: run.status() });
    case '/metrics': {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      const topics = new Map([...run.topics].map(([name, t]) => [name, t.lines.length]));
      return void res.end(
        head ? undefined : metricsText(run.status() as unknown as Record<string, unknown>, run.groupMetrics, topics),
      );
    }
    default:
      return json(404, { error: `no such endpoint: ${path} (try /healthz, /status, /results, /metrics)` });
  }
}
