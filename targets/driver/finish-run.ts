import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceLayout } from '../../model/instance-layout.js';
import type { Results } from '../../protocol/messages.js';
import type { RunOptions, TargetName } from '../target.js';
import { buildReport, junitXml, outcomeTable, resultsJson, withSdkgoMetrics } from './run-report.js';
import { EXIT } from '../../model/exit-codes.js';
import { writeReport } from '../../report/run-dir.js';

/** The first line of every run: what runs where, with which shaping backend and why. */
export function startBanner(o: RunOptions, where: string, backend: string): void {
  const n = o.plan.totalInstances;
  if (!o.json) {
    o.io.stderr(
      `tgc: run ${o.runId} · plan ${o.plan.name} · ${n} instance${n === 1 ? '' : 's'} · target ${where} · ` +
        `shaping ${backend}\n`,
    );
  }
}

/** How a run went, as its driver saw it. */
export interface RunEnd {
  readonly target: TargetName;
  /** The shaping backend in force (`off`, `userspace`, `kernel`). */
  readonly backend: string;
  readonly startedAt: Date;
  readonly results: Results;
  /** Each instance's exit code where the driver saw its process end. */
  readonly exits: ReadonlyMap<string, number | null>;
  /** Interrupted (Ctrl-C): the exit code is 130 whatever the outcome. */
  readonly interrupted: boolean;
  /** Data addresses where the target fixed them (local, compose); else what the instances registered. */
  readonly addresses?: ReadonlyMap<string, string>;
}

/** Writes results.json and junit.xml into the run directory, prints the outcome; resolves to the exit code. */
export function finishRun(o: RunOptions, end: RunEnd): number {
  const registered = new Map(end.results.instances.map((i) => [i.name, i.data_ip]));
  const names = instanceLayout(o.plan).map((p) => ({
    name: p.name,
    group: p.group,
    ip: end.addresses?.get(p.name) ?? registered.get(p.name) ?? null,
  }));
  const built = buildReport({
    version: o.version,
    plan: o.plan,
    target: end.target,
    backend: end.backend,
    startedAt: end.startedAt,
    durationMs: Date.now() - end.startedAt.getTime(),
    results: end.results,
    exits: end.exits,
    names,
  });
  const report = withSdkgoMetrics(built, o.outDir);
  const text = resultsJson(report);
  writeFileSync(join(o.outDir, 'results.json'), text);
  writeFileSync(join(o.outDir, 'junit.xml'), junitXml(report));
  let page: string | undefined;
  try {
    page = writeReport(o.outDir, report);
  } catch (err) {
    // The results are written; a page that cannot be is worth a warning, not the run's outcome.
    o.io.stderr(`tgc: warning: report.html could not be written: ${(err as Error).message}\n`);
  }
  if (o.json) o.io.stdout(text);
  else {
    o.io.stdout(
      '\n' + outcomeTable(report) + `results: ${join(o.outDir, 'results.json')}\n` + (page ? `report:  ${page}\n` : ''),
    );
  }
  if (end.interrupted) return EXIT.interrupted;
  return report.outcome === 'success' ? EXIT.ok : EXIT.runFailed;
}
