// Small mailboxes, as a migration copies thousands of them: a first copy and a no-change re-run of
// 50, 2 000 and 20 000 messages, mdsync backup against rsync -a --delete, the two alternating.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateCorpus } from './corpus.js';
import { measure, median, type Measured } from './measure.js';
import { findInPath } from './paths.js';

export interface SmallContext {
  work: string;
  /** The snapshot of bin/mdsync.js every run uses. */
  cli: string;
  sizes: number[];
  runs: number;
  seed: number;
}

interface Figures {
  first: Measured[];
  again: Measured[];
}

export interface SmallRow {
  messages: number;
  folders: number;
  mdsync: Figures;
  rsync: Figures;
}

/** Folders a mailbox of this size is spread over: few for a few messages, 20 from 20 000. */
const foldersFor = (messages: number): number => Math.max(2, Math.min(20, Math.round(messages / 1000)));

function check(m: Measured, what: string): Measured {
  if (m.code !== 0) throw new Error(`${what} exited ${m.code}: ${m.stderr.trim().split('\n').pop() ?? ''}`);
  return m;
}

export async function runSmall(c: SmallContext): Promise<SmallRow[]> {
  const rsync = findInPath('rsync');
  if (!rsync) throw new Error('rsync is not installed (apt-get install -y rsync)');
  const rows: SmallRow[] = [];
  for (const messages of c.sizes) {
    const folders = foldersFor(messages);
    const src = join(c.work, `small-${messages}`);
    generateCorpus(src, { messages, folders, seed: c.seed, bodies: 'spamassassin' });
    const row: SmallRow = { messages, folders, mdsync: { first: [], again: [] }, rsync: { first: [], again: [] } };
    for (let run = 0; run < c.runs; run++) {
      // The order rotates with the repetition: neither tool always runs on a warmer cache.
      const order = run % 2 === 0 ? (['mdsync', 'rsync'] as const) : (['rsync', 'mdsync'] as const);
      for (const tool of order) {
        const dest = join(c.work, `small-${messages}-${tool}`);
        const home = join(c.work, `small-${messages}-home`);
        rmSync(dest, { recursive: true, force: true });
        rmSync(home, { recursive: true, force: true });
        mkdirSync(home, { recursive: true });
        const env = { ...process.env, XDG_STATE_HOME: join(home, 'state'), XDG_CACHE_HOME: join(home, 'cache') };
        const [cmd, args] = tool === 'mdsync'
          ? [process.execPath, [c.cli, 'backup', '--quiet', src, dest]]
          : [rsync, ['-a', '--delete', `${src}/`, `${dest}/`]];
        row[tool].first.push(check(await measure(cmd, args as string[], env), `${tool}, first copy of ${messages}`));
        row[tool].again.push(check(await measure(cmd, args as string[], env), `${tool}, no-change re-run of ${messages}`));
        rmSync(dest, { recursive: true, force: true });
        rmSync(home, { recursive: true, force: true });
      }
    }
    rmSync(src, { recursive: true, force: true });
    rows.push(row);
    console.log(`small: ${messages} messages done`);
  }
  return rows;
}

const wall = (ms: Measured[]): string => `${median(ms.map((m) => m.wallS)).toFixed(2)} s`;
const rss = (ms: Measured[]): string => `${median(ms.map((m) => m.rssMB)).toFixed(0)} MB`;
/** The median of the per-repetition ratios: a repetition's two runs share the machine's mood. */
const ratio = (a: Measured[], b: Measured[]): string => `${median(a.map((m, i) => m.wallS / (b[i] as Measured).wallS)).toFixed(2)}×`;

export function smallTable(rows: SmallRow[]): string {
  const lines = [
    '| messages (folders) | run | mdsync | rsync | mdsync / rsync | mdsync peak RSS | rsync peak RSS |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    for (const [label, key] of [['first copy', 'first'], ['no-change re-run', 'again']] as const) {
      lines.push(`| ${r.messages} (${r.folders}) | ${label} | ${wall(r.mdsync[key])} | ${wall(r.rsync[key])} | ${ratio(r.mdsync[key], r.rsync[key])} | ${rss(r.mdsync[key])} | ${rss(r.rsync[key])} |`);
    }
  }
  return lines.join('\n');
}
