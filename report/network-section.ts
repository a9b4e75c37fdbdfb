import type { RunReport } from '../protocol/run-report.js';
import { esc, formatMs } from './html.js';

/** The network section: the plan's shapes as a from × to matrix of groups, then mid-run changes. */
export function networkSection(report: RunReport): string {
  const { groups, links } = report.network;
  const cell = new Map(links.map((l) => [`${l.from}\0${l.to}`, l]));
  const head = groups.map((g) => `<th scope="col">${esc(g)}</th>`).join('');
  const rows = groups
    .map((from) => {
      const cells = groups
        .map((to) => {
          const l = cell.get(`${from}\0${to}`);
          const d = l?.description ?? '-';
          return `<td class="${l?.shape.blocked ? 'blocked' : d === '-' ? 'plain' : 'shaped'}">${esc(d)}</td>`;
        })
        .join('');
      return `<tr><th scope="row">${esc(from)}</th>${cells}</tr>`;
    })
    .join('');
  const off =
    report.backend === 'off'
      ? '<p class="note">Shaping was off in this run: these shapes are the plan’s, not applied.</p>'
      : '';
  const changes = report.timeline.flatMap((e) =>
    e.event === 'configure'
      ? [`<li>${esc(formatMs(e.t_ms))} · <b>${esc(e.instance)}</b> → <code>${esc(JSON.stringify(e.shape))}</code></li>`]
      : [],
  );
  const changed = changes.length ? `<h3>Changed during the run</h3><ul class="changes">${changes.join('')}</ul>` : '';
  return (
    `<section id="network"><h2>Network</h2><p>Subnet ${esc(report.network.subnet)} · shaping ` +
    `${esc(report.network.shaping)} (ran: ${esc(report.backend)}) · rows send, columns receive.</p>${off}` +
    `<table class="matrix"><tr><th>from \\ to</th>${head}</tr>${rows}</table>${changed}</section>`
  );
}
