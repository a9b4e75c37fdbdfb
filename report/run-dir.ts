import { closeSync, openSync, readFileSync, readSync, fstatSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import type { RunReport } from '../protocol/run-report.js';
import { renderReport } from './render-report.js';

/** Log lines shown per instance at most. */
const TAIL_LINES = 20;
/** Characters kept of one log line. */
const LINE_CHARS = 300;
/**
 * Characters of log tails in one report at most, shared by the instances. With the budgets of
 * messages (instances-section.ts) and chart points (metrics-section.ts), a 200-instance page
 * stays under 1 MB however much the instances wrote.
 */
const TAIL_BUDGET = 250_000;

/** A run directory that has no usable results.json: the reason, for an exit 2. */
export class RunDirError extends Error {}

/** results.json of a run directory, checked for what the report reads. */
export function readResults(runDir: string): RunReport {
  const path = join(runDir, 'results.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RunDirError(
      code === 'ENOENT'
        ? `${path}: no such file: ${runDir} is not a run directory (tgc run writes one per run, under .tgc/runs/)`
        : `${path}: cannot read it (${code ?? String(err)})`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RunDirError(`${path}: not JSON (${(err as Error).message})`);
  }
  const r = data as Partial<RunReport> | null;
  const missing = ['run_id', 'plan', 'outcome', 'instances', 'groups'].filter(
    (k) => r === null || typeof r !== 'object' || !(k in r),
  );
  if (missing.length || !Array.isArray(r!.instances)) {
    throw new RunDirError(`${path}: not a tgc results.json (no ${missing.join(', ') || 'instance list'})`);
  }
  // Results written before the timeline and the network matrix existed still make a page.
  return {
    ...r,
    timeline: r!.timeline ?? [],
    timeline_dropped: r!.timeline_dropped ?? 0,
    network: r!.network ?? { shaping: 'unknown', subnet: '-', groups: [], links: [] },
  } as RunReport;
}

/** The last lines of a file, reading only its end; '' when there is no such file. */
export function logTail(path: string, maxChars: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').replace(/\n$/, '').split('\n');
    if (length < size) lines.shift(); // the first line read is cut
    let tail = lines
      .slice(-TAIL_LINES)
      .map((l) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}…` : l))
      .join('\n');
    if (tail.length > maxChars) tail = `…${tail.slice(tail.length - maxChars)}`;
    return tail;
  } finally {
    closeSync(fd);
  }
}

/** uPlot's browser build and stylesheet, from the installed package. */
export function chartLibrary(): { script: string; style: string } {
  const require = createRequire(import.meta.url);
  return {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    style: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

/** `rel` under `dir`, or '' (no file) when it points outside: a results.json names only its own run's files. */
function inside(dir: string, rel: string): string {
  const path = resolve(dir, rel);
  const back = relative(resolve(dir), path);
  return back.startsWith('..') || back === '' ? '' : path;
}

/** Renders report.html of a run directory from its results.json and logs; returns its path. */
export function writeReport(runDir: string, report: RunReport = readResults(runDir)): string {
  const budget = Math.min(
    4000,
    Math.floor(TAIL_BUDGET / Math.max(1, report.instances.length + (report.services?.length ?? 0))),
  );
  const logTails = new Map(
    [...report.instances, ...(report.services ?? [])].map((i) => [i.name, logTail(inside(runDir, i.log), budget)]),
  );
  const path = join(runDir, 'report.html');
  writeFileSync(path, renderReport({ report, logTails, chartLibrary: chartLibrary() }));
  return path;
}
