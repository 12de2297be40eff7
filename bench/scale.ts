// The scale test: mdsync backup's no-change re-run as a Maildir of small generated messages grows
// tenfold, and a first copy run again after it stopped halfway.

import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateCorpus } from './corpus.js';
import { measure, median } from './measure.js';
import { table } from './report.js';

export interface ScaleOptions {
  work: string;
  cli: string;
  sizes: number[];
  folders: number;
  runs: number;
  seed: number;
}

export interface ScaleRow {
  messages: number;
  folders: number;
  bytes: number;
  generateS: number;
  initialS: number;
  initialRssMB: number;
  initialCode: number;
  noChangeS: number[];
  noChangeRssMB: number[];
  noChangeCodes: number[];
  /** A first copy run again once half its folders were copied: the second half. */
  restartS: number;
  restartRssMB: number;
  restartCode: number;
}

export async function runScale(o: ScaleOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const size of o.sizes) {
    const dir = join(o.work, `scale-${size}`);
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    const env = { ...process.env, XDG_STATE_HOME: join(dir, 'xdg/state'), XDG_CACHE_HOME: join(dir, 'xdg/cache') };
    console.log(`\nscale: ${size} messages in ${o.folders} folders`);
    const started = process.hrtime.bigint();
    const corpus = generateCorpus(src, { messages: size, folders: o.folders, seed: o.seed, bodies: 'small' });
    const generateS = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`  generated ${(corpus.bytes / 1e6).toFixed(0)} MB in ${generateS.toFixed(1)} s`);
    const args = [o.cli, 'backup', src, dst, '--json'];
    spawnSync('sync');
    const initial = await measure(process.execPath, args, env);
    console.log(`  initial backup (set-up): ${initial.wallS.toFixed(1)} s, ${initial.rssMB.toFixed(0)} MB, exit ${initial.code}`);
    const row: ScaleRow = {
      messages: size, folders: o.folders, bytes: corpus.bytes, generateS, initialS: initial.wallS, initialRssMB: initial.rssMB, initialCode: initial.code,
      noChangeS: [], noChangeRssMB: [], noChangeCodes: [], restartS: Number.NaN, restartRssMB: Number.NaN, restartCode: -1,
    };
    for (let rep = 0; rep < o.runs; rep++) {
      spawnSync('sync');
      const m = await measure(process.execPath, args, env);
      row.noChangeS.push(m.wallS);
      row.noChangeRssMB.push(m.rssMB);
      row.noChangeCodes.push(m.code);
      console.log(`  no-change re-run ${rep + 1}/${o.runs}: ${m.wallS.toFixed(2)} s, ${m.rssMB.toFixed(0)} MB, exit ${m.code}${m.code !== 0 ? `\n${m.stderr.trim()}` : ''}`);
    }
    // As if the first copy had stopped halfway: the folders of the first half of the messages copied (set-up), the rest by a run again.
    rmSync(dst, { recursive: true, force: true });
    rmSync(join(dir, 'xdg'), { recursive: true, force: true });
    const half = await measure(process.execPath, [...args, ...secondHalf(src).flatMap((f) => ['--exclude', f])], env);
    spawnSync('sync');
    const restart = await measure(process.execPath, args, env);
    Object.assign(row, { restartS: restart.wallS, restartRssMB: restart.rssMB, restartCode: half.code || restart.code });
    console.log(`  run again after half the folders: ${restart.wallS.toFixed(1)} s, ${restart.rssMB.toFixed(0)} MB, exit ${half.code}, ${restart.code}`);
    rows.push(row);
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The folders (Maildir++) that, in name order, hold the second half of the messages; INBOX is in the first. */
function secondHalf(root: string): string[] {
  const count = (dir: string): number => readdirSync(join(dir, 'cur')).length + readdirSync(join(dir, 'new')).length;
  const folders = readdirSync(root).filter((n) => n.startsWith('.') && n.length > 1).sort().map((n) => ({ name: n.slice(1), messages: count(join(root, n)) }));
  const total = count(root) + folders.reduce((n, f) => n + f.messages, 0);
  let held = count(root);
  const i = folders.findIndex((f) => (held += f.messages) >= total / 2);
  return folders.slice(i + 1).map((f) => f.name);
}

export function scaleTable(rows: ScaleRow[]): string {
  const first = rows[0];
  const wall0 = first ? median(first.noChangeS) : Number.NaN;
  const rss0 = first ? median(first.noChangeRssMB) : Number.NaN;
  const failed = (r: ScaleRow): string => {
    const codes = [r.initialCode, ...r.noChangeCodes, r.restartCode].filter((c) => c !== 0);
    return codes.length === 0 ? '0' : codes.join(', ');
  };
  return table(
    [
      'messages', 'folders', 'MB', 'initial backup s (set-up)', 'initial backup peak RSS MB', 'no-change wall s', 'no-change peak RSS MB', 'messages ×', 'wall ×', 'RSS ×',
      'second half s', 'second half peak RSS MB', 'exit codes',
    ],
    rows.map((r) => {
      const wall = median(r.noChangeS);
      const rss = median(r.noChangeRssMB);
      return [
        String(r.messages), String(r.folders), (r.bytes / 1e6).toFixed(0), r.initialS.toFixed(1), r.initialRssMB.toFixed(0), wall.toFixed(2), rss.toFixed(0),
        (r.messages / (first?.messages ?? r.messages)).toFixed(1), (wall / wall0).toFixed(2), (rss / rss0).toFixed(2),
        r.restartS.toFixed(1), r.restartRssMB.toFixed(0), failed(r),
      ];
    }),
  );
}
