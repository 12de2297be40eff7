// Markdown tables for the benchmark's results: medians per scenario and tool, and mdsync's ratios to the others.

import { median } from './measure.js';
import type { Sample } from './runner.js';
import { SCENARIOS, type SectionResult, type ToolResult } from './sections.js';
import type { ToolName } from './tools.js';

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The median of the finite values, NaN when there are none. */
function mid(samples: Sample[], value: (s: Sample) => number | undefined): number {
  const xs = samples.map(value).filter((x): x is number => x !== undefined && Number.isFinite(x));
  return xs.length === 0 ? Number.NaN : median(xs);
}

const num = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/**
 * The median wall time, and the fastest and slowest run beside it when there were several: on a
 * shared machine a few slow runs can move a median, and the spread shows when they did.
 */
function wallCell(samples: Sample[], median: number): string {
  const walls = samples.map((s) => s.wallS).filter((x) => Number.isFinite(x));
  if (walls.length < 2) return num(median, 2);
  return `${num(median, 2)} (${num(Math.min(...walls), 2)}–${num(Math.max(...walls), 2)})`;
}

function ratio(x: number, y: number): string {
  if (!Number.isFinite(x) || !Number.isFinite(y) || y <= 0) return '—';
  const r = x / y;
  return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}
/** MB with three decimals below 1 MB, so a few kilobytes on the wire still show. */
const megabytes = (bytes: number): string => num(bytes / 1e6, bytes < 1e6 ? 3 : 2);

/** "yes", "no: why" from the first repetition that failed or was not exact, or "not checked". */
export function exactness(samples: Sample[]): string {
  const bad = samples.find((s) => s.code !== 0 || s.exact === false);
  if (bad) return `no: ${bad.reason ?? `exit ${bad.code}`}`;
  return samples.some((s) => s.exact !== undefined) ? 'yes' : 'not checked';
}

interface Summary {
  wall: number;
  cpu: number;
  remoteCpu: number;
  rss: number;
  remoteRss: number;
  wire: number;
  newFiles: number;
}

function summarize(t: ToolResult): Summary {
  return {
    wall: mid(t.samples, (s) => s.wallS),
    cpu: mid(t.samples, (s) => s.cpuS),
    remoteCpu: mid(t.samples, (s) => s.remoteCpuS),
    rss: mid(t.samples, (s) => s.rssMB),
    remoteRss: mid(t.samples, (s) => s.remoteRssMB),
    wire: mid(t.samples, (s) => s.wireBytes),
    newFiles: mid(t.samples, (s) => s.newFiles),
  };
}

export function sectionTitle(s: SectionResult): string {
  const where = s.mode === 'local' ? 'Local' : 'Over SSH';
  return s.direction === 'one-way' ? `${where}, one-way (backup)` : `${where}, two-way (sync)`;
}

function resultTable(s: SectionResult): string {
  const ssh = s.mode === 'ssh';
  const header = ssh
    ? ['scenario', 'tool', 'wall s (fastest–slowest)', 'CPU s (local + remote)', 'peak RSS MB (local)', 'peak RSS MB (remote)', 'on the wire MB', 'new files', 'exact']
    : ['scenario', 'tool', 'wall s (fastest–slowest)', 'CPU s', 'peak RSS MB', 'new files', 'exact'];
  const rows = s.scenarios.flatMap((tools, i) => tools.map((t) => {
    const m = summarize(t);
    const cpu = ssh ? `${num(m.cpu, 2)} + ${num(m.remoteCpu, 2)}` : num(m.cpu, 2);
    const cells = [SCENARIOS[i] as string, t.label, wallCell(t.samples, m.wall), cpu, num(m.rss, 0)];
    if (ssh) cells.push(num(m.remoteRss, 0), megabytes(m.wire));
    return [...cells, num(m.newFiles, 0), exactness(t.samples)];
  }));
  return table(header, rows);
}

function ratioTable(s: SectionResult): string | undefined {
  const ssh = s.mode === 'ssh';
  const others: ToolName[] = (['rsync', 'doveadm'] as const).filter((n) => s.scenarios[0]?.some((t) => t.name === n));
  if (others.length === 0) return undefined;
  const header = ['scenario'];
  for (const other of others) {
    header.push(`wall mdsync/${other}`, `CPU mdsync/${other}`, `peak RSS mdsync/${other}${ssh ? ' (local + remote)' : ''}`);
    if (ssh) header.push(`wire mdsync/${other}`);
  }
  const rows = s.scenarios.map((tools, i) => {
    const of = (name: ToolName): Summary | undefined => {
      const t = tools.find((x) => x.name === name);
      return t ? summarize(t) : undefined;
    };
    const m = of('mdsync');
    const cells = [SCENARIOS[i] as string];
    for (const other of others) {
      const o = of(other);
      const rss = (x: Summary | undefined): number => (x ? (ssh ? x.rss + x.remoteRss : x.rss) : Number.NaN);
      const cpu = (x: Summary | undefined): number => (x ? (ssh ? x.cpu + x.remoteCpu : x.cpu) : Number.NaN);
      cells.push(ratio(m?.wall ?? Number.NaN, o?.wall ?? Number.NaN), ratio(cpu(m), cpu(o)), ratio(rss(m), rss(o)));
      if (ssh) cells.push(ratio(m?.wire ?? Number.NaN, o?.wire ?? Number.NaN));
    }
    return cells;
  });
  return table(header, rows);
}

export function sectionMarkdown(s: SectionResult, runs: number): string {
  const parts = [`## ${sectionTitle(s)}`, '', `Medians of ${runs}. "after changes": ${s.changes}. "after realistic changes": ${s.realistic}.`, '', resultTable(s)];
  const ratios = ratioTable(s);
  if (ratios) parts.push('', 'Ratios (below 1: mdsync is faster or smaller):', '', ratios);
  return parts.join('\n');
}
