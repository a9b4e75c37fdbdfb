import { destinationTable, linkShape, mergeShapes } from '../../model/egress-plan.js';
import { parseShape } from '../../model/parse-shape.js';
import type { LinkShape } from '../../schema/ir.js';
import { Wire } from '../shaping/wire.js';
import { AgentLink } from './agent-link.js';
import { need, resolveHost, shaping, type AgentIo, type AgentValues } from './agent-io.js';
import { EXIT } from '../../model/exit-codes.js';

/** `wire`: the userspace backend's forwarder, applying every link's shape between TUN devices. */
export async function wireAgent(values: AgentValues, io: AgentIo): Promise<number> {
  const spec = shaping(io, values.shaping);
  const coordinator = need(io, 'TGC_COORDINATOR');
  const endpoints = spec.endpoints ?? [];
  const groupOf = new Map(endpoints.map((e) => [e.name, e.group]));
  const overrides = new Map<string, LinkShape>();
  // Scheduled events' per-destination layers: source → destination → shape.
  const pairs = new Map<string, Map<string, LinkShape>>();
  const wire = new Wire({
    shapeOf: (from, to) =>
      mergeShapes([
        linkShape(spec, groupOf.get(from)!, groupOf.get(to)!, overrides.get(from)),
        pairs.get(from)?.get(to) ?? {},
      ]),
  });
  const port = await wire.listen(Number(values.port ?? 7000), '0.0.0.0');
  io.stderr(`tgc agent: wire listening on UDP ${port} for ${endpoints.length} instances\n`);
  const links: AgentLink[] = [];
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  await Promise.all(
    endpoints.map(async (e) => {
      // A companion's name resolves once its container exists; the instance waits for ready.
      wire.add({ name: e.name, ip: e.ip, port: e.port, host: await resolveHost(e.host, 10 * 60_000) });
      const link = await AgentLink.open(coordinator, e.name, 10 * 60_000);
      links.push(link);
      link.onStop(stop);
      link.onConfigure(async (raw) => {
        const shape = parseShape(raw);
        if ('error' in shape) throw new Error(shape.error);
        overrides.set(e.name, mergeShapes([overrides.get(e.name) ?? {}, shape]));
        wire.reshape(e.name);
      });
      link.onLinks(async (table) => {
        pairs.set(e.name, destinationTable(table));
        wire.reshape(e.name);
      });
      await link.ready();
    }),
  );
  await Promise.race([stopped, io.terminated]);
  for (const l of links) l.close();
  wire.close();
  const s = wire.stats;
  io.stderr(
    `tgc agent: wire forwarded ${s.forwarded} packets; dropped ${Object.entries(s.dropped)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}\n`,
  );
  return EXIT.ok;
}
