import { destinationTable, linkShape, mergeShapes } from '../../model/egress-plan.js';
import { parseShape } from '../../model/parse-shape.js';
import type { LinkShape } from '../../schema/ir.js';
import { Wire } from '../shaping/wire.js';
import type { AgentLink } from './agent-link.js';
import type { AgentShaping } from './agent-io.js';

/**
 * Every link's shape on a wire: the plan's, each instance's mid-run changes (`configure`) and
 * the scheduled events' per-destination layers, answered from the agent links of its instances.
 */
export class WireShapes {
  private readonly groupOf = new Map<string, string>();
  private readonly overrides = new Map<string, LinkShape>();
  /** Scheduled events' per-destination layers: source → destination → shape. */
  private readonly pairs = new Map<string, Map<string, LinkShape>>();
  readonly wire: Wire;

  constructor(private readonly spec: AgentShaping) {
    this.wire = new Wire({
      shapeOf: (from, to) =>
        mergeShapes([
          linkShape(this.spec, this.groupOf.get(from)!, this.groupOf.get(to)!, this.overrides.get(from)),
          this.pairs.get(from)?.get(to) ?? {},
        ]),
    });
  }

  /** Knows `name` as an instance of `group` at once; `link` (its agent link) carries its changes. */
  serve(name: string, group: string, link: AgentLink | Promise<AgentLink>): void {
    this.groupOf.set(name, group);
    void Promise.resolve(link).then(
      (l) => this.listen(name, l),
      () => undefined,
    );
  }

  private listen(name: string, link: AgentLink): void {
    link.onConfigure(async (raw) => {
      const shape = parseShape(raw);
      if ('error' in shape) throw new Error(shape.error);
      this.overrides.set(name, mergeShapes([this.overrides.get(name) ?? {}, shape]));
      this.wire.reshape(name);
    });
    link.onLinks(async (table) => {
      this.pairs.set(name, destinationTable(table));
      this.wire.reshape(name);
    });
  }

  /** Logs what the wire did. */
  summary(): string {
    const s = this.wire.stats;
    return `wire forwarded ${s.forwarded} packets; dropped ${Object.entries(s.dropped)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`;
  }
}
