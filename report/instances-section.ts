import type { RunReport } from '../protocol/run-report.js';
import { esc, formatMs, formatValue } from './html.js';

/** Messages shown per instance at most (the last ones); results.json keeps them all. */
const MAX_MESSAGES_SHOWN = 20;
/** Characters of messages in one report at most, shared by the instances (each gets up to 4,000). */
const MESSAGE_BUDGET = 150_000;

/** The outcome counts per group: the table people look at first. */
export function groupsSection(report: RunReport): string {
  const outcomes = ['success', 'failure', 'crash', 'timeout', 'stopped'] as const;
  const rows = Object.entries(report.groups)
    .map(([g, r]) => {
      const cells = outcomes.map((o) => `<td class="${r.outcomes[o] ? o : 'zero'}">${r.outcomes[o] ?? 0}</td>`);
      const counts = `<td>${r.expected ?? '-'}</td><td>${r.registered}</td>${cells.join('')}`;
      return `<tr><th scope="row">${esc(g)}</th>${counts}</tr>`;
    })
    .join('');
  return (
    `<section id="groups"><h2>Groups</h2><table class="outcomes"><tr><th>group</th><th>planned</th>` +
    `<th>registered</th>${outcomes.map((o) => `<th>${o}</th>`).join('')}</tr>${rows}</table></section>`
  );
}

/**
 * One expandable entry per instance: outcome and reason on its summary line; inside, its
 * address, times, metrics, messages, the end of its log, and links to its log and outputs.
 */
export function instancesSection(report: RunReport, logTails: ReadonlyMap<string, string>): string {
  const share = Math.min(4000, Math.floor(MESSAGE_BUDGET / Math.max(1, report.instances.length)));
  const items = report.instances.map((i) => {
    const facts = [
      ['group', i.group],
      ['data address', i.data_ip ?? '-'],
      ['exit code', i.exit_code === null ? '-' : String(i.exit_code)],
      ['registered', i.registered_ms === null ? 'never' : `at ${formatMs(i.registered_ms)}`],
      ['ended', i.ended_ms === null ? '-' : `at ${formatMs(i.ended_ms)}`],
    ]
      .map(([k, v]) => `<dt>${k}</dt><dd>${esc(v!)}</dd>`)
      .join('');
    const metrics = Object.entries(i.metrics)
      .map(
        ([name, m]) =>
          `${esc(name)} = ${formatValue(m.mean)}${m.unit ? ` ${esc(m.unit)}` : ''}` +
          (m.count > 1 ? ` (mean of ${m.count})` : ''),
      )
      .join(', ');
    const shown = lastMessages(i.messages, share);
    const messages = shown.length
      ? `<h4>Messages${i.messages.length > shown.length ? ` (the last ${shown.length} of ${i.messages.length})` : ''}` +
        '</h4>' +
        `<ul>${shown.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>`
      : '';
    const tail = logTails.get(i.name);
    const log = tail
      ? `<h4>End of the log</h4><pre class="log">${esc(tail)}</pre>`
      : '<p class="note">No log lines.</p>';
    return (
      `<details class="instance" data-instance="${esc(i.name)}"${i.outcome === 'success' ? '' : ' open'}>` +
      `<summary><span class="badge ${i.outcome}">${i.outcome}</span> <b>${esc(i.name)}</b>` +
      `${i.reason ? ` — ${esc(i.reason)}` : ''}</summary><dl>${facts}</dl>` +
      `${metrics ? `<p>Metrics: ${metrics}</p>` : ''}${messages}${log}` +
      `<p class="links"><a href="${esc(encodeURI(i.log))}">log file</a> · ` +
      `<a href="${esc(encodeURI(i.outputs))}/">outputs</a></p></details>`
    );
  });
  const services = (report.services ?? []).map((svc) => {
    const tail = logTails.get(svc.name);
    const acted = report.events.filter((e) => e.instances.includes(svc.name));
    const applied = acted.length
      ? `<h4>Scheduled events</h4><ul>${acted
          .map(
            (e) =>
              `<li>${esc(e.name)} (${esc(e.action)}) at ${esc(formatMs(e.t_ms))}` +
              `${e.result === 'failed' ? ` — failed: ${esc(e.error ?? '')}` : ''}</li>`,
          )
          .join('')}</ul>`
      : '';
    return (
      `<details class="instance" data-service="${esc(svc.name)}"><summary><span class="badge service">service` +
      `</span> <b>${esc(svc.name)}</b></summary><dl><dt>group</dt><dd>${esc(svc.group)}</dd><dt>exit code</dt>` +
      `<dd>${svc.exit_code === null ? '-' : svc.exit_code}</dd></dl>${applied}` +
      (tail ? `<h4>End of the log</h4><pre class="log">${esc(tail)}</pre>` : '<p class="note">No log lines.</p>') +
      `<p class="links"><a href="${esc(encodeURI(svc.log))}">log file</a> · ` +
      `<a href="${esc(encodeURI(svc.outputs))}/">outputs</a></p></details>`
    );
  });
  return `<section id="instances"><h2>Instances</h2>${items.join('')}${services.join('')}</section>`;
}

/** The last messages that fit in `chars` (at least the last one, cut to fit). */
function lastMessages(all: readonly string[], chars: number): string[] {
  const out: string[] = [];
  let left = chars;
  for (let k = all.length - 1; k >= 0 && out.length < MAX_MESSAGES_SHOWN; k--) {
    const m = all[k]!;
    if (m.length > left) {
      if (out.length === 0) out.push(`${m.slice(0, left)}…`);
      break;
    }
    out.unshift(m);
    left -= m.length;
  }
  return out;
}
