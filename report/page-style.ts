/** The report's own styles (uPlot's come with it). Light and dark follow the reader's setting. */
export const PAGE_STYLE = `
:root{--fg:#1d2330;--muted:#5f6878;--bg:#fff;--panel:#f4f6f9;--line:#d9dee7;--ok:#1a7f37;--bad:#cf222e;
--crash:#8b0d16;--timeout:#bc6c00;--stopped:#6e7781;--accent:#0969da;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa3b2;--bg:#11151c;--panel:#1a2029;
--line:#2f3846;--ok:#3fb950;--bad:#f85149;--crash:#ff7b72;--timeout:#d29922;--stopped:#8b949e;--accent:#58a6ff}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:15px}h4{font-size:13px;margin:10px 0 4px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600;margin-right:8px}
.verdict.success{background:var(--ok)}.verdict.failure{background:var(--bad)}
.meta,.note,.legend{color:var(--muted)}.reason{font-weight:600}
table{border-collapse:collapse}td,th{border:1px solid var(--line);padding:3px 8px;text-align:left}
th{background:var(--panel);font-weight:600}
td.success{color:var(--ok);font-weight:600}td.failure,td.crash{color:var(--bad);font-weight:600}
td.timeout{color:var(--timeout);font-weight:600}td.stopped{color:var(--stopped)}td.zero{color:var(--muted)}
.matrix td.shaped{background:var(--panel)}.matrix td.blocked{color:var(--bad);font-weight:600}
.matrix td.plain{color:var(--muted)}
.timeline{position:relative;font-size:12px;padding-right:28px}
.timeline .row{display:flex;align-items:center;height:18px}
.timeline .who{flex:0 0 160px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding-right:8px}
.timeline .track{position:relative;flex:1;height:100%}.rows{position:relative}
.rows .row:nth-child(odd){background:var(--panel)}
.overlay{position:absolute;inset:0;display:flex;pointer-events:none;z-index:2}
.overlay .track{height:100%}.runmark{position:absolute;top:0;bottom:0;border-left:1px dashed var(--accent)}
.runmark span{position:absolute;top:-16px;left:-4px;width:12px;text-align:center;color:#fff;background:var(--accent);
border-radius:6px;font-size:9px;line-height:12px}.runmark span.n1{top:-30px}
.marks{color:var(--muted);font-size:12px}.marks b{display:inline-block;width:14px;height:14px;border-radius:7px;
text-align:center;background:var(--accent);color:#fff;font-size:10px;line-height:14px}
.axis{height:24px!important;border-bottom:1px solid var(--line);margin-bottom:34px}
.tick{position:absolute;bottom:2px;transform:translateX(-50%);color:var(--muted);white-space:nowrap}
.life{position:absolute;top:7px;height:4px;border-radius:2px;background:var(--ok);opacity:.35}
.life.failure,.life.crash{background:var(--bad)}.life.timeout{background:var(--timeout)}
.life.stopped{background:var(--stopped)}.life.service{background:var(--accent);opacity:.2}
.who.service{font-style:italic}.badge.service{background:var(--accent)}
.mark{position:absolute;top:4px;width:10px;height:10px;margin-left:-5px;border-radius:50%;background:var(--muted);
border:1px solid var(--bg)}
.legend .mark{position:relative;display:inline-block;top:1px;margin:0 2px 0 10px}
.mark.registered{background:var(--stopped);border-radius:1px;width:4px;margin-left:-2px}
.mark.network-ready{background:var(--accent)}
.mark.stage{background:var(--muted);border-radius:0;width:3px;margin-left:-1px;height:14px;top:2px}
.mark.signal{background:#8250df;transform:rotate(45deg);border-radius:1px;width:8px;height:8px;margin-left:-4px;top:5px}
.mark.configure{background:var(--timeout);border-radius:0;clip-path:polygon(50% 0,100% 100%,0 100%)}
.mark.outcome{border-radius:2px}.mark.outcome.success{background:var(--ok)}
.mark.outcome.failure,.mark.outcome.crash{background:var(--bad)}.mark.outcome.timeout{background:var(--timeout)}
.mark.outcome.stopped{background:var(--stopped)}
.who.failure,.who.crash{color:var(--bad);font-weight:600}.who.timeout{color:var(--timeout)}
.metric{display:inline-block;vertical-align:top;margin:0 16px 16px 0;padding:10px;border:1px solid var(--line);
border-radius:6px;max-width:100%}.metric figcaption{margin-bottom:6px}.chart{margin-top:8px;min-height:10px}
.stats td,.stats th{text-align:right}
details.instance{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 10px}
details.instance summary{cursor:pointer}
.badge{display:inline-block;min-width:62px;text-align:center;border-radius:3px;color:#fff;font-size:12px;
padding:0 6px;background:var(--stopped)}.badge.success{background:var(--ok)}
.badge.failure,.badge.crash{background:var(--bad)}.badge.timeout{background:var(--timeout)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dt{color:var(--muted)}dd{margin:0}
pre.log{background:var(--panel);padding:8px;overflow:auto;max-height:320px;font-size:12px;white-space:pre-wrap}
a{color:var(--accent)}
`;
