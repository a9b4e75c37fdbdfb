import type { RunReport } from '../protocol/run-report.js';
import { diagnosticsSection } from './diagnostics-section.js';
import { esc, formatMs, scriptJson } from './html.js';
import { groupsSection, instancesSection } from './instances-section.js';
import { metricsSection } from './metrics-section.js';
import { networkSection } from './network-section.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';
import { timelineSection } from './timeline-view.js';

/** What a report page is made of: the run's results.json, the end of each log, and uPlot. */
export interface ReportPage {
  readonly report: RunReport;
  /** The last lines of each instance's log, by instance name. */
  readonly logTails: ReadonlyMap<string, string>;
  /** uPlot's script and stylesheet, inlined: the page needs no network. */
  readonly chartLibrary: { readonly script: string; readonly style: string };
}

/**
 * report.html: one self-contained page. Everything but the charts is plain HTML, readable
 * without JavaScript; the charts are drawn by uPlot from the data in the page. Pure: the same
 * input gives the same bytes.
 */
export function renderReport(page: ReportPage): string {
  const r = page.report;
  const metrics = metricsSection(r);
  const title = `${r.plan} · ${r.outcome === 'success' ? 'PASS' : 'FAIL'}`;
  const header =
    `<header><h1><span class="verdict ${r.outcome}">${r.outcome === 'success' ? 'PASS' : 'FAIL'}</span>` +
    `${esc(r.plan)}</h1>${r.reason ? `<p class="reason">${esc(r.reason)}</p>` : ''}` +
    `<p class="meta">run ${esc(r.run_id)} · target ${esc(r.target)} · shaping ${esc(r.backend)} · ` +
    `${r.instances.length} instance${r.instances.length === 1 ? '' : 's'} · started ${esc(r.started_at)} · ` +
    `took ${esc(formatMs(r.duration_ms))} · tgc ${esc(r.tgc_version)} · <a href="results.json">results.json</a> · ` +
    `<a href="junit.xml">junit.xml</a></p></header>`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${page.chartLibrary.style}</style>`,
    `<style>${PAGE_STYLE}</style>`,
    '</head><body>',
    header,
    groupsSection(r),
    timelineSection(r),
    metrics.html,
    diagnosticsSection(r),
    networkSection(r),
    instancesSection(r, page.logTails),
    `<script type="application/json" id="report-data">${scriptJson({ charts: metrics.charts })}</script>`,
    `<script>${page.chartLibrary.script}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
