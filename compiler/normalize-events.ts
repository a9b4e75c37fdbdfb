import { PROCESS_ACTIONS, type EventSpec } from '../schema/composition.js';
import type { EventAction, Group, PlanEvent } from '../schema/ir.js';
import { normalizeShape } from '../model/normalize-shape.js';
import { resolveSelector } from '../model/selectors.js';
import { parseDuration } from '../model/units.js';

/** `[[events]]` → the IR's schedule: durations in ms, selectors resolved to instance names. Checked input only. */
export function normalizeEvents(events: readonly EventSpec[], groups: readonly Group[]): PlanEvent[] {
  const names = (selector: string): string[] => {
    const r = resolveSelector(selector, groups);
    if ('error' in r) throw new Error(`normalize: ${r.error}; run checkMeaning first`);
    return [...r];
  };
  return events.map((e, i) => {
    let action: EventAction;
    if (e.partition)
      action = { kind: 'partition', sides: e.partition.map((side) => [...new Set(side.flatMap(names))]) };
    else if (e.heal) action = { kind: 'heal' };
    else if (e.link) {
      const { from, to, ...shape } = e.link;
      action = { kind: 'link', from: names(from), to: names(to), shape: normalizeShape(shape) };
    } else {
      const kind = PROCESS_ACTIONS.find((k) => e[k] !== undefined);
      if (!kind) throw new Error('normalize: an event without an action; run checkMeaning first');
      action = { kind, instances: names(e[kind]!) };
    }
    return {
      name: e.name ?? `event-${i + 1}`,
      trigger:
        e.at !== undefined ? { atMs: parseDuration(e.at)! } : { state: e.after!.state, count: e.after!.count ?? 1 },
      delayMs: e.delay !== undefined ? parseDuration(e.delay)! : 0,
      action,
    };
  });
}
