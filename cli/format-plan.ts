import type { Json } from '../schema/composition.js';
import type { Build, Group, Plan } from '../schema/ir.js';
import { expandInstances } from '../model/instance-layout.js';
import { describeShape } from '../model/describe-shape.js';
import { describeEvent } from '../model/describe-event.js';
import { formatBytes, formatDuration } from '../model/format-units.js';
import { stableStringify } from './stable-stringify.js';

/** `tgc plan --json`: the IR plus every instance, keys in a fixed order, params sorted. */
export function planJson(plan: Plan): string {
  return (
    stableStringify({ plan, instances: expandInstances(plan) }, { sortKeysUnder: ['params', 'env', 'args'] }) + '\n'
  );
}

/** `tgc plan`: what would run, one row per group, then the link rules. */
export function planTable(plan: Plan): string {
  const lines: string[] = [];
  lines.push(plan.description ? `${plan.name} — ${plan.description}` : plan.name);
  const groups = plan.groups.length;
  lines.push(
    `${plan.totalInstances} instance${plan.totalInstances === 1 ? '' : 's'} in ${groups} ` +
      `group${groups === 1 ? '' : 's'} · timeout ${formatDuration(plan.timeoutMs)} · ` +
      `${plan.onFailure === 'continue' ? 'failures: every instance runs to its end · ' : ''}shaping ` +
      `${plan.network.shaping} · subnet ${plan.network.subnet}`,
  );
  lines.push('');
  const rows = [['GROUP', 'INSTANCES', 'RUNS', 'PARAMS', 'NETWORK']];
  for (const g of plan.groups) {
    rows.push([
      g.id,
      String(g.instances),
      runs(g),
      params(g.params),
      describeShape({ ...plan.network.shape, ...g.network }),
    ]);
  }
  lines.push(...table(rows));
  const built = plan.groups.filter((g) => g.build);
  if (built.length > 0) {
    lines.push('');
    const builds = [['GROUP', 'BUILD', 'CONTEXT', 'DETAILS']];
    for (const g of built) builds.push([g.id, g.build!.kind ?? 'docker', g.build!.context, buildDetails(g.build!)]);
    lines.push(...table(builds));
  }
  if (plan.network.links.length > 0) {
    lines.push('');
    const links = [['FROM', 'TO', 'SHAPE']];
    for (const r of plan.network.links) links.push([r.from, r.to, describeShape(r.shape)]);
    lines.push(...table(links));
  }
  if (plan.events) {
    lines.push('');
    const events = [['EVENT', 'WHEN', 'ACTION']];
    for (const e of plan.events) {
      const d = describeEvent(e);
      events.push([e.name, d.when, d.action]);
    }
    lines.push(...table(events));
  }
  return lines.join('\n') + '\n';
}

function runs(g: Group): string {
  const parts: string[] = [];
  if (g.command) parts.push(g.command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' '));
  if (g.image) parts.push(`image ${g.image}`);
  else if (g.build) parts.push(`build (${g.build.kind ?? 'docker'})`);
  const res = [
    g.resources.cpuMillis !== undefined && `cpu ${g.resources.cpuMillis / 1000}`,
    g.resources.memoryBytes !== undefined && `mem ${formatBytes(g.resources.memoryBytes)}`,
  ].filter(Boolean);
  if (res.length) parts.push(`(${res.join(', ')})`);
  return parts.join(' · ');
}

/** A build's settings in one line: what tgc build does with it (docs/composition.md, Builds). */
function buildDetails(b: Build): string {
  const parts: string[] = [];
  if (b.kind === undefined) {
    parts.push(`dockerfile ${b.contextPrefix ? `${b.contextPrefix}/` : ''}${b.dockerfile ?? 'Dockerfile'}`);
    if (b.contextPrefix) parts.push(`context under ${b.contextPrefix}/`);
  } else parts.push(`base ${b.baseImage}`);
  const go = b.go;
  if (go) {
    parts.push(go.skipRuntimeImage ? 'no runtime image' : `runtime ${go.runtimeImage}`);
    if (go.path !== '.') parts.push(`path ${go.path}`);
    if (go.execPkg !== '.') parts.push(`package ${go.execPkg}`);
    if (go.modfile) parts.push(`modfile ${go.modfile}`);
    if (go.freshModule) parts.push(`fresh go.mod ${go.freshModule}`);
    if (go.cgo) parts.push('cgo');
    if (go.proxy !== undefined) parts.push(`GOPROXY ${go.proxy}`);
    if (go.tags.length > 0) parts.push(`tags ${go.tags.join(',')}`);
    for (const r of go.replace) parts.push(`replace ${r.module} => ${r.target ?? r.module}@${r.version}`);
    const hooks = Object.keys(go.hooks);
    if (hooks.length > 0) parts.push(`hooks ${hooks.join(',')}`);
  }
  const args = Object.keys(b.args).sort();
  if (args.length > 0) parts.push(`args ${args.map((k) => `${k}=${JSON.stringify(b.args[k])}`).join(' ')}`);
  return parts.join(' · ');
}

function params(p: Readonly<Record<string, Json>>): string {
  const keys = Object.keys(p).sort();
  return keys.length ? keys.map((k) => `${k}=${JSON.stringify(p[k])}`).join(' ') : '-';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}
