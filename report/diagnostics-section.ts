import type { RunReport } from '../protocol/run-report.js';
import { esc, formatValue } from './html.js';

/**
 * sdk-go's diagnostics (diagnostics.out: the Go runtime's memory statistics and the like), apart
 * from the metrics: one table per group, folded, without charts — there are dozens of them.
 */
export function diagnosticsSection(report: RunReport): string {
  const parts: string[] = [];
  for (const [group, g] of Object.entries(report.groups)) {
    const entries = Object.entries(g.diagnostics ?? {});
    if (entries.length === 0) continue;
    const rows = entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(
        ([name, m]) =>
          `<tr><td class="name">${esc(name)}</td><td>${esc(m.kind ?? '')}</td><td>${m.count}</td>` +
          `<td>${formatValue(m.min)}</td><td>${formatValue(m.mean)}</td><td>${formatValue(m.max)}</td></tr>`,
      )
      .join('');
    parts.push(
      `<details data-group="${esc(group)}"><summary><b>${esc(group)}</b> · ${entries.length} ` +
        `diagnostic${entries.length === 1 ? '' : 's'}</summary><table class="stats"><tr><th>name</th><th>kind</th>` +
        `<th>values</th><th>min</th><th>mean</th><th>max</th></tr>${rows}</table></details>`,
    );
  }
  return parts.length ? `<section id="diagnostics"><h2>Diagnostics</h2>${parts.join('')}</section>` : '';
}
