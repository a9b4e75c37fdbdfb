import type { TimelineEvent } from '../protocol/messages.js';
import type { RunReport } from '../protocol/run-report.js';
import { esc, formatMs } from './html.js';

/** Rows drawn at most: past this, the timeline says how many it left out (results.json has them all). */
export const MAX_TIMELINE_ROWS = 500;

/** The time axis: from 0 to `end` ms, with ticks at a round step. */
export interface Axis {
  readonly end: number;
  readonly ticks: readonly number[];
}

/** An axis that holds every event: its end is the last time rounded up to a tick. */
export function timeAxis(times: readonly number[]): Axis {
  const last = Math.max(1, ...times);
  const steps = [1, 2, 5].flatMap((m) => [1, 10, 100, 1000, 10_000, 100_000, 1_000_000].map((p) => m * p));
  const step = steps.sort((a, b) => a - b).find((s) => last / s <= 8) ?? 3_600_000;
  const end = Math.ceil(last / step) * step;
  return { end, ticks: Array.from({ length: end / step + 1 }, (_, i) => i * step) };
}

/** A position on the axis as a CSS percentage (4 decimals: sub-pixel on any screen). */
export function position(t: number, axis: Axis): string {
  return `${((t / axis.end) * 100).toFixed(4)}%`;
}

const MARK_LABEL: Readonly<Record<string, string>> = {
  registered: 'registered',
  'network-ready': 'network ready',
  configure: 'network changed',
};

/** What a timeline row is drawn from: an instance, or a service (no outcome: its bar is `service`). */
interface RowSubject {
  readonly name: string;
  readonly outcome: string;
  readonly registered_ms: number | null;
  readonly ended_ms: number | null;
}

/** One instance's row: a bar from registration to outcome, and a mark per event. */
function row(instance: RowSubject, events: readonly TimelineEvent[], axis: Axis): string {
  const marks: string[] = [];
  let start: number | null = instance.registered_ms;
  let end: number | null = instance.ended_ms;
  for (const e of events) {
    let title: string;
    switch (e.event) {
      case 'record':
        continue;
      case 'signal':
        title = `signal ${e.state} (${e.count})`;
        break;
      case 'outcome':
        title = `${e.outcome}${e.reason ? `: ${e.reason}` : ''}`;
        end = e.t_ms;
        break;
      case 'stage':
        title = `stage ${e.stage} ${e.phase === 'start' ? 'started' : 'ended'}`;
        break;
      case 'registered':
        start = e.t_ms;
        title = MARK_LABEL[e.event]!;
        break;
      case 'fault':
        title = `${e.name} (${e.action}${e.result === 'failed' ? ', failed' : ''})`;
        break;
      default:
        title = MARK_LABEL[e.event] ?? e.event;
    }
    const kind = e.event === 'outcome' ? `outcome ${e.outcome}` : e.event === 'fault' ? 'configure' : e.event;
    const state = e.event === 'signal' ? ` data-state="${esc(e.state)}"` : '';
    marks.push(
      `<span class="mark ${kind}" style="left:${position(e.t_ms, axis)}" data-t="${e.t_ms}"${state} ` +
        `title="${esc(`${formatMs(e.t_ms)} · ${title}`)}"></span>`,
    );
  }
  const bar =
    start !== null
      ? `<span class="life ${instance.outcome}" style="left:${position(start, axis)};` +
        `width:${position(Math.max(0, (end ?? axis.end) - start), axis)}"></span>`
      : '';
  return (
    `<div class="row" ${instance.outcome === 'service' ? 'data-service' : 'data-instance'}="${esc(instance.name)}">` +
    `<span class="who ${instance.outcome}">` +
    `${esc(instance.name)}</span><span class="track">${bar}${marks.join('')}</span></div>`
  );
}

/** The timeline section: an axis, run-wide marks as vertical lines, one row per instance. */
export function timelineSection(report: RunReport): string {
  const byInstance = new Map<string, TimelineEvent[]>();
  const runMarks: TimelineEvent[] = [];
  for (const e of report.timeline) {
    const who = 'instance' in e ? e.instance : null;
    if (who === null) {
      // Run-wide: the run's moments and the plan's scheduled events (partitions, kills…).
      if (e.event === 'mark' || e.event === 'fault') runMarks.push(e);
      continue;
    }
    let list = byInstance.get(who);
    if (!list) byInstance.set(who, (list = []));
    list.push(e);
  }
  // Services (no outcome): a row from their first event to the run's end, with the scheduled
  // events that acted on them (kill, restart, partitions…).
  const serviceNames = new Set((report.services ?? []).map((s) => s.name));
  for (const e of report.events) {
    for (const who of e.instances) {
      if (!serviceNames.has(who)) continue;
      let list = byInstance.get(who);
      if (!list) byInstance.set(who, (list = []));
      list.push({ t_ms: e.t_ms, event: 'fault', name: e.name, action: e.action, result: e.result });
    }
  }
  const services = (report.services ?? []).map((svc) => {
    const events = (byInstance.get(svc.name) ?? []).sort((a, b) => a.t_ms - b.t_ms);
    return { svc, events, first: events[0]?.t_ms ?? 0 };
  });
  const times = [
    ...report.timeline.map((e) => e.t_ms),
    ...report.instances.flatMap((i) => [i.registered_ms ?? 0, i.ended_ms ?? 0]),
  ];
  const axis = timeAxis(times);
  const shown = report.instances.slice(0, MAX_TIMELINE_ROWS);
  const ticks = axis.ticks
    .map((t) => `<span class="tick" style="left:${position(t, axis)}">${esc(formatMs(t))}</span>`)
    .join('');
  // Run-wide marks are numbered on the chart (labels of close marks would overlap) and named below it.
  const label = (e: TimelineEvent) =>
    e.event === 'mark'
      ? e.name.replace(/-/g, ' ')
      : e.event === 'fault'
        ? `${e.name} (${e.action}${e.result === 'failed' ? ', failed' : ''})`
        : e.event;
  const lines = runMarks
    .map(
      (e, n) =>
        `<span class="runmark" style="left:${position(e.t_ms, axis)}" data-t="${e.t_ms}" ` +
        `title="${esc(`${formatMs(e.t_ms)} · ${label(e)}`)}"><span class="n${n % 2}">${n + 1}</span></span>`,
    )
    .join('');
  const named = runMarks.length
    ? `<p class="marks">${runMarks
        .map((e, n) => `<b>${n + 1}</b> ${esc(label(e))} at ${esc(formatMs(e.t_ms))}`)
        .join(' · ')}</p>`
    : '';
  const more =
    report.instances.length > shown.length
      ? `<p class="note">${report.instances.length - shown.length} more instances are not drawn; ` +
        `results.json has their events.</p>`
      : '';
  const dropped = report.timeline_dropped
    ? `<p class="note">${report.timeline_dropped} events were over the coordinator's limits and are not in ` +
      `the timeline.</p>`
    : '';
  return (
    `<section id="timeline"><h2>Timeline</h2>` +
    `<p class="legend"><span class="mark registered"></span> registered <span class="mark network-ready"></span> ` +
    `network ready <span class="mark signal"></span> state signalled <span class="mark configure"></span> ` +
    `network changed <span class="mark outcome success"></span> outcome · hover a mark for its time</p>` +
    `<div class="timeline" data-end="${axis.end}"><div class="row axis"><span class="who"></span>` +
    `<span class="track">${ticks}</span></div><div class="rows"><div class="overlay"><span class="who"></span>` +
    `<span class="track">${lines}</span></div>` +
    shown.map((i) => row(i, byInstance.get(i.name) ?? [], axis)).join('') +
    services
      .slice(0, Math.max(0, MAX_TIMELINE_ROWS - shown.length))
      .map(({ svc, events, first }) =>
        row({ name: svc.name, outcome: 'service', registered_ms: first, ended_ms: null }, events, axis),
      )
      .join('') +
    `</div></div>${named}${more}${dropped}</section>`
  );
}
