import { EVENT_ACTIONS, PROCESS_ACTIONS } from '../schema/composition.js';
import type { Diagnostics } from './diagnostics.js';
import { locate, pointer, type Positions } from './positions.js';
import { resolveSelector } from '../model/selectors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Stage (part of meaning): the `[[events]]` schedule — one trigger and one action per event,
 * selectors that name instances of the plan, partitions whose sides do not overlap, a `resume`
 * only for what some event pauses, unique names. `groups` are the plan's ids with their counts
 * (undefined when the counts do not resolve: selectors are then not checked).
 */
export function checkEvents(
  events: unknown,
  groups: readonly { readonly id: string; readonly instances: number }[] | undefined,
  shapingOff: boolean,
  positions: Positions,
  diags: Diagnostics,
): void {
  if (!Array.isArray(events)) return;
  const at = (path: (string | number)[], want: 'key' | 'value' = 'value') => locate(positions, pointer(path), want);
  const names = new Map<string, number>();
  const paused = new Set<string>();
  const resumes: [string[], (string | number)[]][] = [];
  const signalledStates = new Set(
    events.map((e, i) => `event:${isObj(e) && typeof e.name === 'string' ? e.name : `event-${i + 1}`}`),
  );
  const resolve = (selector: unknown, path: (string | number)[]): string[] => {
    if (typeof selector !== 'string' || !groups) return [];
    const r = resolveSelector(selector, groups);
    if ('error' in r) {
      diags.error(
        'UNKNOWN_INSTANCE',
        at(path),
        `${r.error}; use an instance name (etcd-2), a group id or group[index]`,
      );
      return [];
    }
    return [...r];
  };
  events.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const base: (string | number)[] = ['events', i];
    const name = typeof raw.name === 'string' ? raw.name : `event-${i + 1}`;
    const first = names.get(name);
    if (first !== undefined)
      diags.error(
        'DUPLICATE_EVENT',
        at([...base, typeof raw.name === 'string' ? 'name' : 'at'], typeof raw.name === 'string' ? 'value' : 'key'),
        `an event named "${name}" is already events[${first}]; event names must be unique`,
      );
    else names.set(name, i);

    const triggers = ['at', 'after'].filter((k) => raw[k] !== undefined);
    if (triggers.length !== 1)
      diags.error(
        'EVENT_TRIGGER',
        at(triggers.length ? [...base, triggers[1]!] : base, triggers.length ? 'key' : 'value'),
        triggers.length
          ? 'an event has one trigger: at = "…" or after = { state = … }, not both'
          : 'events[' +
              i +
              '] has no trigger: add at = "20s" (after every network is ready) or after = { state = "…" }',
      );
    const after = raw.after;
    if (isObj(after) && typeof after.state === 'string' && after.state.startsWith('event:')) {
      if (!signalledStates.has(after.state))
        diags.warning(
          'UNSIGNALLED_STATE',
          at([...base, 'after', 'state']),
          `no event is named "${after.state.slice('event:'.length)}", so nothing signals ${after.state}: this ` +
            'event waits for a program to signal it',
        );
    }

    const actions = EVENT_ACTIONS.filter((k) => raw[k] !== undefined);
    if (actions.length !== 1) {
      diags.error(
        'EVENT_ACTION',
        at(actions.length ? [...base, actions[1]!] : base, actions.length ? 'key' : 'value'),
        actions.length
          ? `an event does one thing: ${actions.join(' and ')} belong in separate events`
          : `events[${i}] does nothing: give it one of ${EVENT_ACTIONS.join(', ')}`,
      );
      return;
    }
    const action = actions[0]!;
    if (shapingOff && (action === 'partition' || action === 'heal' || action === 'link'))
      diags.error(
        'EVENT_NEEDS_SHAPING',
        at([...base, action], 'key'),
        `a ${action} changes the network, which shaping = "off" leaves alone: set network.shaping to "auto"`,
      );
    if (action === 'partition' && Array.isArray(raw.partition)) {
      const seen = new Map<string, string>();
      raw.partition.forEach((side, s) => {
        if (!Array.isArray(side)) return;
        side.forEach((sel, k) => {
          const path = [...base, 'partition', s, k];
          const again = resolve(sel, path).filter((inst) => seen.has(inst) || !seen.set(inst, `partition[${s}]`));
          if (again.length > 0)
            diags.error(
              'PARTITION_OVERLAP',
              at(path),
              `${again.join(', ')} ${again.length === 1 ? 'is' : 'are'} already on a side (${seen.get(again[0]!)}): ` +
                "a partition's sides must not share an instance",
            );
        });
      });
    } else if (action === 'link' && isObj(raw.link)) {
      resolve(raw.link.from, [...base, 'link', 'from']);
      resolve(raw.link.to, [...base, 'link', 'to']);
    } else if ((PROCESS_ACTIONS as readonly string[]).includes(action)) {
      const instances = resolve(raw[action], [...base, action]);
      if (action === 'pause') for (const inst of instances) paused.add(inst);
      if (action === 'resume') resumes.push([instances, [...base, action]]);
    }
  });
  for (const [instances, path] of resumes) {
    const never = instances.filter((x) => !paused.has(x));
    if (never.length > 0)
      diags.error(
        'RESUME_WITHOUT_PAUSE',
        at(path),
        `no event pauses ${never.join(', ')}: resume thaws what a pause froze; add a pause event or remove this one`,
      );
  }
}
