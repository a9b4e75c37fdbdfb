// Testground's network.Config (sdk-go network/types.go) as the shape tgc's agents apply.

/** sdk-go's LinkShape: durations in nanoseconds, bandwidth in bytes/s, percentages as numbers. */
interface TgLinkShape {
  latency?: number;
  jitter?: number;
  bandwidth?: number;
  filter?: number;
  loss?: number;
  corrupt?: number;
  corrupt_corr?: number;
  reorder?: number;
  reorder_corr?: number;
  duplicate?: number;
  duplicate_corr?: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const pct = (v: unknown) => `${Math.min(100, num(v))}%`;

/**
 * The whole shape a Config asks for, in the SDK's notation (`{ latency: "100ms", … }`). A
 * Config replaces the shape as a whole, so every field is written (zeros included); `enable =
 * false` or a `filter` of Reject or Drop cuts the link. Bandwidth 0 means "unlimited" in
 * Testground; tgc then leaves the bandwidth as the plan has it.
 */
export function shapeFromConfig(config: Record<string, unknown>): Record<string, unknown> {
  const d = (config.default && typeof config.default === 'object' ? config.default : {}) as TgLinkShape;
  const ms = (ns: unknown) => `${Math.round(num(ns) / 1000) / 1000}ms`;
  const latency = num(d.latency);
  const shape: Record<string, unknown> = {
    latency: ms(latency),
    jitter: ms(latency > 0 ? d.jitter : 0),
    loss: pct(d.loss),
    corrupt: pct(d.corrupt),
    corrupt_correlation: pct(d.corrupt_corr),
    duplicate: pct(d.duplicate),
    duplicate_correlation: pct(d.duplicate_corr),
    // netem reorders only delayed packets: without latency, reordering is dropped, as tc would.
    reorder: pct(latency > 0 ? d.reorder : 0),
    reorder_correlation: pct(latency > 0 ? d.reorder_corr : 0),
    blocked: config.enable === false || d.filter === 1 || d.filter === 2,
  };
  if (num(d.bandwidth) > 0) shape.bandwidth = `${Math.round(num(d.bandwidth) * 8)}bit`;
  return shape;
}
