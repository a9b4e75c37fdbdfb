/**
 * Which instances an event's selector names (docs/composition.md, Events): a group id (every
 * instance of it), `group[index]`, or an instance name `<group>-<n>`. A group id wins over an
 * instance name spelled the same. Pure: the compiler checks with it, and normalize resolves.
 */
export function resolveSelector(
  selector: string,
  groups: readonly { readonly id: string; readonly instances: number }[],
): readonly string[] | { readonly error: string } {
  const group = groups.find((g) => g.id === selector);
  if (group) return Array.from({ length: group.instances }, (_, i) => `${group.id}-${i}`);
  const indexed = /^(.+)\[([0-9]+)\]$/.exec(selector);
  if (indexed) {
    const g = groups.find((x) => x.id === indexed[1]);
    if (!g) return { error: `"${selector}" names no group: ${indexed[1]}` };
    const i = Number(indexed[2]);
    if (i >= g.instances) return { error: `"${selector}": group ${g.id} has instances 0..${g.instances - 1}` };
    return [`${g.id}-${i}`];
  }
  const named = /^(.+)-([0-9]+)$/.exec(selector);
  const g = named && groups.find((x) => x.id === named[1]);
  if (g && Number(named[2]) < g.instances && String(Number(named[2])) === named[2]) return [selector];
  return { error: `"${selector}" names no instance or group` };
}
