// Markdown tables for the benchmark's results: medians per scenario, ratios, syscall counts.

import { median } from './measure.js';
import type { SyscallCounts } from './syscalls.js';

export interface Sample {
  wallS: number;
  rssMB: number;
  exact: boolean;
}

export interface ScenarioResult {
  label: string;
  mdsync: Sample[];
  /** Undefined when rsync is not installed. */
  rsync?: Sample[];
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const fixed = (n: number, digits: number): string => n.toFixed(digits);

function summary(samples: Sample[]): { wall: number; rss: number; exact: string } {
  return {
    wall: median(samples.map((s) => s.wallS)),
    rss: median(samples.map((s) => s.rssMB)),
    exact: samples.every((s) => s.exact) ? 'yes' : 'no',
  };
}

export function timingTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => {
    const m = summary(r.mdsync);
    if (!r.rsync) return [r.label, fixed(m.wall, 2), fixed(m.rss, 1), m.exact, '—', '—', '—', '—'];
    const s = summary(r.rsync);
    return [r.label, fixed(m.wall, 2), fixed(m.rss, 1), m.exact, fixed(s.wall, 2), fixed(s.rss, 1), s.exact, fixed(m.wall / s.wall, 2)];
  });
  return table(['scenario', 'mdsync wall s', 'mdsync peak RSS MB', 'exact', 'rsync wall s', 'rsync peak RSS MB', 'rsync exact', 'mdsync/rsync'], rows);
}

export function syscallTable(rows: [string, SyscallCounts[]][]): string {
  return table(
    ['no-change re-run (both Maildirs)', 'message-file opens', 'folder directory listings', 'root directory listings', 'stat calls'],
    rows.map(([label, counts]) => [
      label,
      ...(['messageOpens', 'folderListings', 'rootListings', 'stats'] as const).map((k) => String(median(counts.map((c) => c[k])))),
    ]),
  );
}
