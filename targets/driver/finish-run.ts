import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceLayout } from '../../model/instance-layout.js';
import type { Results } from '../../protocol/messages.js';
import type { Plan } from '../../schema/ir.js';
import type { DriverIo, RunOptions } from '../target.js';
import { buildReport, junitXml, outcomeTable } from './run-report.js';

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

/** Writes results.json and junit.xml into the run directory, prints the outcome; resolves to the exit code. */
export function finishRun(o: {
  plan: Plan;
  version: string;
  target: string;
  backend: string;
  outDir: string;
  startedAt: Date;
  durationMs: number;
  results: Results;
  exits: ReadonlyMap<string, number | null>;
  json: boolean;
  io: DriverIo;
  interrupted: boolean;
  /** Data addresses where the target fixed them (compose); else what the instances registered. */
  addresses?: ReadonlyMap<string, string>;
}): number {
  const registered = new Map(o.results.instances.map((i) => [i.name, i.data_ip]));
  const names = instanceLayout(o.plan).map((p) => ({
    name: p.name,
    group: p.group,
    ip: o.addresses?.get(p.name) ?? registered.get(p.name) ?? null,
  }));
  const report = buildReport({
    version: o.version,
    plan: o.plan,
    target: o.target,
    backend: o.backend,
    startedAt: o.startedAt,
    durationMs: o.durationMs,
    results: o.results,
    exits: o.exits,
    names,
  });
  writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(o.outDir, 'junit.xml'), junitXml(report));
  if (o.json) o.io.stdout(JSON.stringify(report, null, 2) + '\n');
  else o.io.stdout('\n' + outcomeTable(report) + `results: ${join(o.outDir, 'results.json')}\n`);
  if (o.interrupted) return 130;
  return report.outcome === 'success' ? 0 : 1;
}
