import type { LinkShape, Plan } from '../../schema/ir.js';
import { join } from 'node:path';
import {
  NETWORK_INITIALIZED_STATE,
  NETWORK_READY_STATE,
  type CoordinatorStatus,
  type GroupResult,
  type MetricSummary,
  type Results,
} from '../../protocol/messages.js';
import { mergeSummaries, sdkgoMetrics } from './sdkgo-output.js';
import type { InstanceReport, NetworkReport, RunReport, ShapeReport } from '../../protocol/run-report.js';
import { linkShape } from '../../model/egress-plan.js';
import { describeShape } from '../../model/describe-shape.js';

export interface ReportInput {
  readonly version: string;
  readonly plan: Plan;
  readonly target: string;
  readonly backend: string;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly results: Results;
  /** Instance names in plan order, with the exit code of each process (null: never exited on its own). */
  readonly exits: ReadonlyMap<string, number | null>;
  readonly names: readonly { name: string; group: string; ip: string | null }[];
}

/** Joins the coordinator's results with the plan's instance list: every planned instance appears. */
export function buildReport(r: ReportInput): RunReport {
  const byName = new Map(r.results.instances.map((i) => [i.name, i]));
  const serviceGroups = new Set(r.plan.groups.filter((g) => g.role === 'service').map((g) => g.id));
  const services = r.names
    .filter((n) => serviceGroups.has(n.group))
    .map(({ name, group }) => ({
      name,
      group,
      exit_code: r.exits.get(name) ?? null,
      log: `logs/${name}.log`,
      outputs: `outputs/${name}`,
    }));
  const instances: InstanceReport[] = r.names
    .filter((n) => !serviceGroups.has(n.group))
    .map(({ name, group, ip }) => {
      const i = byName.get(name);
      return {
        name,
        group,
        seq: i?.seq ?? null,
        group_seq: i?.group_seq ?? null,
        data_ip: i?.data_ip ?? ip,
        outcome:
          i?.outcome ??
          (r.results.outcome === 'success'
            ? 'success'
            : r.results.reason?.includes('deadline')
              ? 'timeout'
              : 'stopped'),
        reason: i?.reason ?? (i ? null : 'never registered with the coordinator'),
        exit_code: r.exits.get(name) ?? null,
        registered_ms: i?.registered_ms ?? null,
        ended_ms: i?.ended_ms ?? null,
        metrics: i?.metrics ?? {},
        messages: i?.messages ?? [],
        log: `logs/${name}.log`,
        outputs: `outputs/${name}`,
      };
    });
  return {
    tgc_version: r.version,
    run_id: r.results.run_id,
    plan: r.plan.name,
    target: r.target,
    backend: r.backend,
    outcome: r.results.outcome,
    reason: r.results.reason,
    started_at: r.startedAt.toISOString(),
    duration_ms: r.durationMs,
    groups: r.results.groups,
    instances,
    services,
    network: networkReport(r.plan),
    // Results from a coordinator without a timeline (an older runtime image) still make a report.
    timeline: r.results.timeline ?? [],
    timeline_dropped: r.results.timeline_dropped ?? 0,
    events: r.results.events ?? [],
  };
}

/**
 * The report with what sdk-go instances wrote to their outputs: results.out's metrics added to
 * theirs and to their groups', diagnostics.out's as `diagnostics`, apart.
 */
export function withSdkgoMetrics(report: RunReport, outDir: string): RunReport {
  const groups: Record<string, GroupResult> = { ...report.groups };
  const instances = report.instances.map((i) => {
    const found = sdkgoMetrics(join(outDir, i.outputs));
    if (found.metrics.size === 0 && found.diagnostics.size === 0) return i;
    const g = groups[i.group];
    if (g) {
      groups[i.group] = {
        ...g,
        metrics: merged(g.metrics, found.metrics),
        ...(found.diagnostics.size > 0 && { diagnostics: merged(g.diagnostics ?? {}, found.diagnostics) }),
      };
    }
    return {
      ...i,
      metrics: { ...i.metrics, ...Object.fromEntries(found.metrics) },
      ...(found.diagnostics.size > 0 && { diagnostics: Object.fromEntries(found.diagnostics) }),
    };
  });
  return { ...report, groups, instances };
}

/** A group's summaries with one more instance's merged in. */
function merged(into: Readonly<Record<string, MetricSummary>>, add: ReadonlyMap<string, MetricSummary>) {
  const out: Record<string, MetricSummary> = { ...into };
  for (const [name, m] of add) out[name] = mergeSummaries(into[name], m);
  return out;
}

/** The plan's shapes for every pair of groups, all layers merged. */
export function networkReport(plan: Plan): NetworkReport {
  const ids = plan.groups.map((g) => g.id);
  return {
    shaping: plan.network.shaping,
    subnet: plan.network.subnet,
    groups: ids,
    links: ids.flatMap((from) =>
      ids.map((to) => {
        const shape = linkShape(plan, from, to);
        return { from, to, shape: snakeCase(shape), description: describeShape(shape) };
      }),
    ),
  };
}

function snakeCase(shape: LinkShape): ShapeReport {
  return Object.fromEntries(
    Object.entries(shape).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  ) as ShapeReport;
}

/** results.json's text: indented, but one line per timeline event (a run has thousands). */
export function resultsJson(report: RunReport): string {
  const text = JSON.stringify({ ...report, timeline: [] }, null, 2);
  const events = report.timeline.map((e) => `    ${JSON.stringify(e)}`).join(',\n');
  // The top-level key's line is unique: nested keys are indented deeper, strings hold no newline.
  return text.replace('\n  "timeline": [],', () => `\n  "timeline": [${events ? `\n${events}\n  ` : ''}],`) + '\n';
}

const xml = (s: string) =>
  s
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML: a test suite per group, a test case per instance; crashes are errors, the rest failures. */
export function junitXml(report: RunReport): string {
  const groups = [...new Set(report.instances.map((i) => i.group))];
  const secs = (ms: number | null) => ((ms ?? 0) / 1000).toFixed(3);
  const bad = (i: InstanceReport) => i.outcome !== 'success';
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(`tgc ${report.plan}`)}" tests="${report.instances.length}" ` +
      `failures="${report.instances.filter((i) => bad(i) && i.outcome !== 'crash').length}" ` +
      `errors="${report.instances.filter((i) => i.outcome === 'crash').length}" time="${secs(report.duration_ms)}">`,
  ];
  for (const g of groups) {
    const members = report.instances.filter((i) => i.group === g);
    lines.push(
      `  <testsuite name="${xml(g)}" tests="${members.length}" ` +
        `failures="${members.filter((i) => bad(i) && i.outcome !== 'crash').length}" ` +
        `errors="${members.filter((i) => i.outcome === 'crash').length}" skipped="0" ` +
        `time="${secs(report.duration_ms)}" timestamp="${report.started_at.replace(/\.\d+Z$/, '')}">`,
    );
    for (const i of members) {
      const time = secs(i.ended_ms !== null && i.registered_ms !== null ? i.ended_ms - i.registered_ms : null);
      lines.push(`    <testcase classname="${xml(`${report.plan}.${g}`)}" name="${xml(i.name)}" time="${time}">`);
      if (i.outcome === 'crash')
        lines.push(`      <error type="crash" message="${xml(i.reason ?? 'crashed')}">${xml(i.reason ?? '')}</error>`);
      else if (bad(i))
        lines.push(
          `      <failure type="${i.outcome}" message="${xml(i.reason ?? i.outcome)}">${xml(i.reason ?? '')}</failure>`,
        );
      lines.push(`      <system-out>${xml(`log: ${i.log}`)}</system-out>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}

/** The outcome table printed at the end of a run. */
export function outcomeTable(report: RunReport): string {
  const out: string[] = [];
  const groups = [...new Set(report.instances.map((i) => i.group))];
  const width = Math.max(5, ...groups.map((g) => g.length));
  out.push(`${'GROUP'.padEnd(width)}  OK`);
  for (const g of groups) {
    const members = report.instances.filter((i) => i.group === g);
    const ok = members.filter((i) => i.outcome === 'success').length;
    out.push(`${g.padEnd(width)}  ${ok}/${members.length}`);
    for (const i of members.filter((m) => m.outcome !== 'success'))
      out.push(`${''.padEnd(width)}    ${i.name}: ${i.outcome}${i.reason ? ` — ${i.reason}` : ''}`);
    for (const [name, m] of Object.entries(report.groups[g]?.metrics ?? {})) {
      const unit = m.unit ? ` ${m.unit}` : '';
      // An sdk-go metric says its kind; a distribution its spread and its count of samples.
      const kind = m.kind && m.kind !== 'point' ? ` (${m.kind})` : '';
      const spread = m.distribution ? `, stddev ${round(m.distribution.stddev)}` : '';
      const what = m.distribution ? 'sample' : 'value';
      out.push(
        `${''.padEnd(width)}    ${name}${kind}: mean ${round(m.mean)}${unit}${spread}, min ${round(m.min)}, ` +
          `max ${round(m.max)} (${m.count} ${what}${m.count === 1 ? '' : 's'})`,
      );
    }
  }
  out.push(
    '',
    `${report.outcome === 'success' ? 'PASS' : 'FAIL'} ${report.plan} ` +
      `(run ${report.run_id}, ${(report.duration_ms / 1000).toFixed(1)} s)` +
      (report.reason ? ` — ${report.reason}` : ''),
  );
  return out.join('\n') + '\n';
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** The live progress line: registered n/N, network ready, states reached, outcomes so far. */
export function progressLine(s: CoordinatorStatus, total: number): string {
  const outcomes =
    Object.entries(s.outcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none yet';
  const all = Object.entries(s.states).filter(([, v]) => v > 0);
  const states = all
    // The network's own states are counted as "network ready" already; scheduled events have their own part.
    .filter(([k]) => k !== NETWORK_READY_STATE && k !== NETWORK_INITIALIZED_STATE && !k.startsWith('event:'))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const applied = all.filter(([k]) => k.startsWith('event:')).map(([k]) => k.slice('event:'.length));
  const reached = (states ? `states ${states} · ` : '') + (applied.length ? `events ${applied.join(', ')} · ` : '');
  return `registered ${s.registered}/${total} · network ready ${s.network_ready} · ${reached}outcomes: ${outcomes}`;
}
