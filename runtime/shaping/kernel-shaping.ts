import type { LinkShape } from '../../schema/ir.js';
import type { AgentLink } from '../agent/agent-link.js';
import { mergeShapes, planEgress, type ShapingPlan } from '../../model/egress-plan.js';
import { applyTc, kernelShortfall, probeKernel, type TcRunner } from './kernel-backend.js';
import { parseShape } from '../../model/parse-shape.js';
import { renderTc } from './tc-plan.js';

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
}

/**
 * The kernel backend's agent for one instance: probes, refuses (before any traffic) what this
 * kernel cannot do, applies the egress plan with tc, reports ready; then applies mid-run
 * `configure` shapes as the top layer of the instance's egress.
 */
export async function startKernelShaping(o: KernelShapingOptions): Promise<void> {
  const caps = await probeKernel(o.device, o.tc);
  let override: LinkShape = {};
  const apply = async () => {
    const tcPlan = renderTc(planEgress(o.plan, o.group, override), { device: o.device, addresses: o.addresses });
    const shortfall = kernelShortfall(tcPlan, caps);
    if (shortfall) throw new Error(shortfall);
    await applyTc(o.device, tcPlan, o.tc);
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
  await o.link.ready();
}
