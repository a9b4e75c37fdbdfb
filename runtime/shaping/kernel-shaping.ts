import type { LinkShape } from '../../schema/ir.js';
import type { AgentLink } from '../agent/agent-link.js';
import {
  destinationTable,
  groupByShape,
  groupOfInstance,
  linkShape,
  mergeShapes,
  planEgress,
  type ShapingPlan,
} from '../../model/egress-plan.js';
import { applyTc, kernelShortfall, probeKernel, type TcRunner } from './kernel-backend.js';
import { parseShape } from '../../model/parse-shape.js';
import { renderTc } from './tc-plan.js';
import { renderMarkPlan } from './mark-plan.js';
import { applyMarkPlan, netRunner, type NetRunner } from './apply-marks.js';

export interface KernelShapingOptions {
  readonly plan: ShapingPlan;
  /** The instance this shapes, and its group. */
  readonly instance: string;
  readonly group: string;
  /** Its data interface, as `tc` sees it through `tc`. */
  readonly device: string;
  readonly tc: TcRunner;
  /** Data addresses of each group's instances. */
  readonly addresses: ReadonlyMap<string, readonly string[]>;
  /** When given: readiness, failures and mid-run `configure` go through it. */
  readonly link?: AgentLink;
  /** Another instance's data address, for scheduled events that shape single destinations. */
  readonly addressOf?: (instance: string) => string | undefined;
  /**
   * How traffic is told apart (docs/network.md): `address` — by destination address, on this
   * instance's egress (it needs every group's addresses); `mark` — by the sender's group, which
   * every sender writes into DSCP and every receiver shapes on its ingress (no addresses needed
   * until the instance shapes its own egress: a `configure`, a scheduled event). @default "address"
   */
  readonly classify?: 'address' | 'mark';
  /** Mark classification: the IFB device ingress is redirected to, and how `ip`/`iptables` run. */
  readonly ifb?: string;
  readonly net?: NetRunner;
  /** Mark classification: every group's addresses, fetched when this instance shapes its own egress. */
  readonly allAddresses?: () => Promise<ReadonlyMap<string, readonly string[]>>;
}

/**
 * The kernel backend's agent for one instance: probes, refuses (before any traffic) what this
 * kernel cannot do, applies the egress plan with tc, reports ready; then applies mid-run
 * `configure` shapes as the top layer of the instance's egress.
 */
export async function startKernelShaping(o: KernelShapingOptions): Promise<void> {
  const caps = await probeKernel(o.device, o.tc);
  let override: LinkShape = {};
  // Scheduled events' per-destination layers, by destination instance.
  let pairs = new Map<string, LinkShape>();
  const hosts = () =>
    groupByShape(
      [...pairs].map(([to, layer]): [string, LinkShape] => {
        const ip = o.addressOf?.(to);
        if (!ip) throw new Error(`the data address of ${to} is not known here`);
        return [ip, mergeShapes([linkShape(o.plan, o.group, groupOfInstance(to), override), layer])];
      }),
    ).map(({ shape, items }) => ({ shape, addresses: items }));
  // Refused destinations (Testground's Reject) get a `prohibit` route: the kernel fails the
  // sender's connect or send at once, as Testground's sidecar does; what tc does to them is moot.
  let prohibited = new Set<string>();
  const applyRefusals = async () => {
    const want = new Set(hosts().flatMap((h) => (h.shape.blocked && h.shape.refused ? h.addresses : [])));
    const net = o.net ?? netRunner();
    for (const ip of want) {
      if (prohibited.has(ip)) continue;
      const r = await net('ip', ['route', 'replace', 'prohibit', `${ip}/32`]);
      if (r.code !== 0) throw new Error(`ip route replace prohibit ${ip}/32: ${r.stderr.trim()}`);
    }
    for (const ip of prohibited) if (!want.has(ip)) await net('ip', ['route', 'del', 'prohibit', `${ip}/32`]);
    prohibited = want;
  };
  const apply = async () => {
    await applyRefusals();
    if (o.classify === 'mark') return applyMarked();
    const tcPlan = renderTc(planEgress(o.plan, o.group, override), {
      device: o.device,
      addresses: o.addresses,
      hosts: hosts(),
    });
    const shortfall = kernelShortfall(tcPlan, caps);
    if (shortfall) throw new Error(shortfall);
    await applyTc(o.device, tcPlan, o.tc);
  };
  // Receivers shape by the sender's mark. What this instance shapes itself (its `configure`
  // applies to every destination; an event's layer to some) leaves marked SHAPED_AT_SOURCE.
  const applyMarked = async () => {
    const selfShaped = Object.keys(override).length > 0;
    // Shaping its own egress needs the addresses, which this classification otherwise goes without.
    const everyone = (selfShaped || pairs.size > 0) && o.allAddresses ? await o.allAddresses() : o.addresses;
    const ifb = o.ifb ?? 'tgcifb0';
    const hostShapes = hosts();
    const marks = renderMarkPlan(o.plan, o.group, {
      device: o.device,
      ifb,
      selfShaped,
      shapedHosts: hostShapes.flatMap((h) => h.addresses),
    });
    const egress =
      selfShaped || hostShapes.length > 0
        ? renderTc(selfShaped ? planEgress(o.plan, o.group, override) : { from: o.group, classes: [] }, {
            device: o.device,
            addresses: everyone,
            hosts: hostShapes,
          })
        : undefined;
    const shortfall = kernelShortfall(
      { batch: [...marks.tc, ...(egress?.batch ?? [])], needsNetem: marks.needsNetem || !!egress?.needsNetem },
      caps,
    );
    if (shortfall) throw new Error(shortfall);
    await applyMarkPlan(o.device, ifb, marks, o.tc, o.net ?? netRunner());
    if (egress) await applyTc(o.device, egress, o.tc);
    else await o.tc(['qdisc', 'del', 'dev', o.device, 'root']);
  };
  try {
    await apply();
  } catch (err) {
    await o.link?.failed(`${o.instance}: ${(err as Error).message}`).catch(() => undefined);
    throw err;
  }
  if (!o.link) return;
  o.link.onConfigure(async (raw) => {
    const shape = parseShape(raw);
    if ('error' in shape) throw new Error(shape.error);
    const previous = override;
    override = mergeShapes([override, shape]);
    try {
      await apply();
    } catch (err) {
      override = previous;
      throw err;
    }
  });
  o.link.onLinks(async (table) => {
    const previous = pairs;
    pairs = destinationTable(table);
    try {
      await apply();
    } catch (err) {
      pairs = previous;
      throw err;
    }
  });
  await o.link.ready();
}
