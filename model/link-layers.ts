/** What `linkLayers` reads from: any representation of shapes (raw or normalized). */
export interface LinkSource<S> {
  /** The `[network]` shape. */
  readonly root: S | undefined;
  group(id: string): S | undefined;
  /** The rule written for exactly this `from`/`to` pair (either may be `*`). */
  rule(from: string, to: string): S | undefined;
}

/**
 * The shapes that apply to traffic from an instance of group `from` to one of group `to`,
 * least specific first: `[network]`, `* → *`, the `from` group's own `network`, `* → to`,
 * `from → *`, `from → to`. Fields merge in that order, each layer overriding only the fields
 * it sets. Shared by validation (on raw shapes) and by the network planner (on the IR).
 */
export function linkLayers<S>(from: string, to: string, source: LinkSource<S>): S[] {
  const layers = [
    source.root,
    source.rule('*', '*'),
    source.group(from),
    source.rule('*', to),
    source.rule(from, '*'),
    source.rule(from, to),
  ];
  return layers.filter((s): s is S => s !== undefined);
}

export function ruleKey(from: string, to: string): string {
  return `${from}\0${to}`;
}
