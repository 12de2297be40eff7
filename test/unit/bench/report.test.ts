// The benchmark report's tables: medians per tool, the spread of wall times beside them, ratios to the peers.

import { describe, expect, it } from 'vitest';
import { sectionMarkdown } from '../../../bench/report.js';
import type { Sample } from '../../../bench/runner.js';
import type { SectionResult, ToolResult } from '../../../bench/sections.js';

const sample = (wallS: number, cpuS: number, rssMB: number): Sample => ({ code: 0, wallS, cpuS, rssMB, newFiles: 10, exact: true });

function tool(name: 'mdsync' | 'rsync', label: string, samples: Sample[]): ToolResult {
  return { name, label, samples };
}

/** A table's rows (cells, trimmed), found by their first two cells. */
function row(markdown: string, scenario: string, label: string): string[] {
  const cells = markdown
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .map((l) => l.slice(2, -2).split(' | ').map((c) => c.trim()))
    .find((c) => c[0] === scenario && c[1] === label);
  if (!cells) throw new Error(`no row ${scenario} / ${label} in\n${markdown}`);
  return cells;
}

describe('benchmark report', () => {
  const section: SectionResult = {
    mode: 'local',
    direction: 'one-way',
    changes: '10× each',
    realistic: '10 deliveries to INBOX',
    scenarios: [
      [
        tool('mdsync', 'mdsync backup', [sample(2.2, 3.6, 320), sample(3.4, 5.7, 330), sample(2.1, 3.5, 325)]),
        tool('rsync', 'rsync -a --delete', [sample(3.1, 3.8, 10), sample(3.0, 3.7, 10), sample(3.2, 3.9, 11)]),
      ],
      [tool('mdsync', 'mdsync backup', [sample(0.1, 0.09, 54)]), tool('rsync', 'rsync -a --delete', [sample(0.5, 0.48, 10)])],
      [
        tool('mdsync', 'mdsync backup', [sample(0.7, 1.0, 220), { ...sample(Number.NaN, Number.NaN, Number.NaN), code: 127 }]),
        tool('rsync', 'rsync -a --delete', [sample(0.6, 0.6, 11), sample(0.55, 0.55, 11)]),
      ],
      [tool('mdsync', 'mdsync backup', [sample(0.15, 0.12, 60)]), tool('rsync', 'rsync -a --delete', [sample(0.6, 0.5, 10)])],
    ],
  };
  const markdown = sectionMarkdown(section, 3);

  it('gives the median wall time with the fastest and slowest run beside it', () => {
    expect(markdown).toContain('| scenario | tool | wall s (fastest–slowest) | CPU s | peak RSS MB | new files | exact |');
    expect(row(markdown, 'initial copy', 'mdsync backup').slice(2, 5)).toEqual(['2.20 (2.10–3.40)', '3.60', '325']);
    expect(row(markdown, 'initial copy', 'rsync -a --delete')[2]).toBe('3.10 (3.00–3.20)');
  });

  it('shows no spread for a single run, nor where only one run measured anything', () => {
    expect(row(markdown, 'no-change re-run', 'mdsync backup')[2]).toBe('0.10');
    expect(row(markdown, 'after changes', 'mdsync backup')[2]).toBe('0.70');
    expect(row(markdown, 'after changes', 'mdsync backup')[6]).toMatch(/^no: exit 127/);
  });

  it('says what each kind of changes changed, and gives the realistic ones their row and ratio', () => {
    expect(markdown).toContain('"after changes": 10× each. "after realistic changes": 10 deliveries to INBOX.');
    expect(row(markdown, 'after realistic changes', 'mdsync backup').slice(2, 5)).toEqual(['0.15', '0.12', '60']);
    expect(markdown).toContain('| after realistic changes | 0.25× | 0.24× | 6.00× |');
  });

  it('keeps the ratios to the peer on the medians', () => {
    const ratios = markdown.slice(markdown.indexOf('Ratios')).split('\n').filter((l) => l.startsWith('| initial copy |'));
    // 2.20 / 3.10, 3.60 / 3.80, 325 / 10.
    expect(ratios).toEqual(['| initial copy | 0.71× | 0.95× | 32.50× |']);
  });
});
