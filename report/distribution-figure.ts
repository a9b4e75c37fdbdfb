import type { MetricSummary } from '../protocol/messages.js';
import type { InstanceReport } from '../protocol/run-report.js';
import { esc, formatValue } from './html.js';

/** The quantiles a distribution chart draws per instance, low to high. */
export const QUANTILES = [
  ['min', 'min'],
  ['p50', 'p50'],
  ['p95', 'p95'],
  ['p99', 'p99'],
  ['max', 'max'],
] as const;

/** What the page script draws for a histogram or timer: per instance (x), one series per quantile. */
export interface QuantileChart {
  readonly id: string;
  readonly title: string;
  readonly kind: 'quantiles';
  readonly unit: string;
  readonly x: readonly number[];
  readonly series: readonly { readonly label: string; readonly y: readonly (number | null)[] }[];
}

/** Rows of the per-instance table at most; the chart shows every instance. */
const MAX_ROWS = 50;

/**
 * A histogram's or timer's figure (sdk-go's summaries, results.out): the group's pooled summary,
 * a table of each instance's quantiles (readable without JavaScript), and a chart of them.
 */
export function distributionFigure(
  group: string,
  metric: string,
  summary: MetricSummary,
  members: readonly InstanceReport[],
  id: string,
): { html: string; chart: QuantileChart } {
  const d = summary.distribution!;
  const unit = summary.unit ? ` ${esc(summary.unit)}` : '';
  const own = members
    .map((inst, index) => ({ inst, index, d: inst.metrics[metric]?.distribution }))
    .filter((m) => m.d !== undefined);
  const cell = (v: number | undefined) => `<td>${v === undefined ? '' : `${formatValue(v)}${unit}`}</td>`;
  const rows = own
    .slice(0, MAX_ROWS)
    .map(
      (m) =>
        `<tr><td>${esc(m.inst.name)}</td><td>${m.d!.count}</td>${QUANTILES.map(([k]) => cell(m.d![k])).join('')}</tr>`,
    )
    .join('');
  const unitWord = summary.unit ? `, ${esc(summary.unit)}` : '';
  const more = own.length > MAX_ROWS ? `<p class="note">${own.length - MAX_ROWS} more in results.json.</p>` : '';
  const html =
    `<figure class="metric" data-group="${esc(group)}" data-metric="${esc(metric)}" data-kind="${summary.kind}">` +
    `<figcaption><b>${esc(group)}</b> · ${esc(metric)} (${summary.kind}${unitWord})` +
    `</figcaption><table class="stats"><tr><th>samples</th><th>min</th><th>mean</th><th>stddev</th><th>max</th></tr>` +
    `<tr><td>${d.count}</td>${cell(d.min)}${cell(d.mean)}${cell(d.stddev)}${cell(d.max)}</tr></table>` +
    `<table class="stats"><tr><th>instance</th><th>samples</th>${QUANTILES.map(([, l]) => `<th>${l}</th>`).join('')}` +
    `</tr>${rows}</table>${more}` +
    `<div class="chart" id="${id}" data-metric="${esc(metric)}" data-kind="quantiles"></div></figure>`;
  const chart: QuantileChart = {
    id,
    title: `${group} · ${metric}`,
    kind: 'quantiles',
    unit: summary.unit,
    x: own.map((m) => m.index),
    series: QUANTILES.map(([k, label]) => ({
      label,
      y: own.map((m) => (m.d![k] === undefined ? null : Number(m.d![k]!.toPrecision(6)))),
    })),
  };
  return { html, chart };
}
