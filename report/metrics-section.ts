import type { MetricSummary } from '../protocol/messages.js';
import type { RunReport } from '../protocol/run-report.js';
import { distributionFigure, type QuantileChart } from './distribution-figure.js';
import { esc, formatValue } from './html.js';

/** Points per chart at most: a metric recorded 100,000 times is drawn from an even sample of them. */
export const MAX_CHART_POINTS = 2000;
/** Points in all of a report's charts at most, shared by the charts (the page's size). */
const POINT_BUDGET = 24_000;

/** What the page script draws with uPlot. */
export type ChartSpec = PointChart | QuantileChart;

/** x and y columns (and a median line for distributions). */
export interface PointChart {
  readonly id: string;
  readonly title: string;
  readonly kind: 'distribution' | 'series';
  readonly unit: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly median?: number;
}

interface Sample {
  readonly t: number;
  readonly value: number;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** An sdk-go metric's kind (a point is a plain value) and the unit, in brackets after the name. */
function caption(m: MetricSummary): string {
  const words = [m.kind && m.kind !== 'point' ? m.kind : '', m.unit].filter(Boolean).map(esc);
  return words.length ? ` (${words.join(', ')})` : '';
}

/** Every `stride`-th point, so that at most `max` remain (x and y cut alike), to 6 significant digits. */
function thin(x: number[], y: number[], max: number): { x: number[]; y: number[] } {
  const stride = Math.max(1, Math.ceil(x.length / max));
  const keep = (_: number, i: number) => i % stride === 0;
  const round = (v: number) => Number(v.toPrecision(6));
  return { x: x.filter(keep).map(round), y: y.filter(keep).map(round) };
}

/**
 * The metrics section: per group and metric, a summary table (readable without JavaScript)
 * and charts: the distribution over the group's instances (each recorded value at its
 * instance), and a time series when some instance recorded the metric more than once.
 */
export function metricsSection(report: RunReport): { html: string; charts: ChartSpec[] } {
  const samples = new Map<string, Sample[]>(); // `${instance}\0${metric}`
  for (const e of report.timeline) {
    if (e.event !== 'record') continue;
    const key = `${e.instance}\0${e.metric}`;
    let list = samples.get(key);
    if (!list) samples.set(key, (list = []));
    list.push({ t: e.t_ms, value: e.value });
  }
  const charts: ChartSpec[] = [];
  const parts: string[] = [];
  const metricCount = Object.values(report.groups).reduce((n, g) => n + Object.keys(g.metrics).length, 0);
  // Each metric may have two charts.
  const perChart = Math.min(MAX_CHART_POINTS, Math.floor(POINT_BUDGET / Math.max(1, 2 * metricCount)));
  for (const [group, g] of Object.entries(report.groups)) {
    const members = report.instances.filter((i) => i.group === group);
    for (const [metric, summary] of Object.entries(g.metrics)) {
      if (summary.distribution) {
        // A histogram or timer: sdk-go kept no values, only each instance's summary of them.
        const figure = distributionFigure(group, metric, summary, members, `chart-${charts.length}`);
        charts.push(figure.chart);
        parts.push(figure.html);
        continue;
      }
      const dx: number[] = [];
      const dy: number[] = [];
      const series: Sample[] = [];
      let repeated = false;
      members.forEach((inst, index) => {
        const own = samples.get(`${inst.name}\0${metric}`);
        const m = inst.metrics[metric];
        // Without the timeline's points (an older coordinator, or over its limits) the mean stands in.
        const values = own?.map((s) => s.value) ?? (m ? [m.mean] : []);
        for (const v of values) {
          dx.push(index);
          dy.push(v);
        }
        if (own) series.push(...own);
        if ((m?.count ?? 0) > 1) repeated = true;
      });
      const id = `chart-${charts.length}`;
      const med = dy.length ? median(dy) : summary.mean;
      charts.push({
        id,
        title: `${group} · ${metric}`,
        kind: 'distribution',
        unit: summary.unit,
        ...thin(dx, dy, perChart),
        median: med,
      });
      let seriesDiv = '';
      if (repeated && series.length > 1) {
        series.sort((a, b) => a.t - b.t);
        const sid = `chart-${charts.length}`;
        const { x, y } = thin(
          series.map((s) => s.t / 1000),
          series.map((s) => s.value),
          perChart,
        );
        charts.push({ id: sid, title: `${group} · ${metric} over time`, kind: 'series', unit: summary.unit, x, y });
        seriesDiv = `<div class="chart" id="${sid}" data-metric="${esc(metric)}" data-kind="series"></div>`;
      }
      const unit = summary.unit ? ` ${esc(summary.unit)}` : '';
      parts.push(
        `<figure class="metric" data-group="${esc(group)}" data-metric="${esc(metric)}">` +
          `<figcaption><b>${esc(group)}</b> · ${esc(metric)}${caption(summary)}` +
          `</figcaption><table class="stats"><tr><th>values</th><th>min</th><th>median</th><th>max</th>` +
          `<th>mean</th></tr><tr><td>${summary.count}</td><td>${formatValue(summary.min)}${unit}</td>` +
          `<td>${formatValue(med)}${unit}</td><td>${formatValue(summary.max)}${unit}</td>` +
          `<td>${formatValue(summary.mean)}${unit}</td></tr></table>` +
          `<div class="chart" id="${id}" data-metric="${esc(metric)}" data-kind="distribution"></div>` +
          `${seriesDiv}</figure>`,
      );
    }
  }
  const body = parts.length ? parts.join('') : '<p class="note">No instance recorded a metric.</p>';
  return { html: `<section id="metrics"><h2>Metrics</h2>${body}</section>`, charts };
}
