// `--syscalls`: what mdsync backup and rsync do to the Maildirs in a no-change re-run, counted under strace.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './measure.js';
import { findInPath } from './paths.js';
import { table } from './report.js';
import { countSyscalls, straceAvailable, type SyscallCounts } from './syscalls.js';

export interface SyscallOptions {
  work: string;
  cli: string;
  src: string;
  runs: number;
}

function syscallTable(rows: [string, SyscallCounts[]][]): string {
  return table(
    ['no-change re-run (both Maildirs)', 'message-file opens', 'folder directory listings', 'root directory listings', 'stat calls'],
    rows.map(([label, counts]) => [
      label,
      ...(['messageOpens', 'folderListings', 'rootListings', 'stats'] as const).map((k) => String(median(counts.map((c) => c[k])))),
    ]),
  );
}

export async function syscallSection(o: SyscallOptions): Promise<string> {
  const title = '## System calls, local no-change re-run';
  const rsync = findInPath('rsync');
  if (!straceAvailable() || !rsync) return `${title}\n\nNot counted: strace or rsync is not installed.`;
  const dir = join(o.work, 'trees', 'syscalls');
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, XDG_STATE_HOME: join(dir, 'xdg/state'), XDG_CACHE_HOME: join(dir, 'xdg/cache') };
  const tools: [string, string, string[], string][] = [
    ['mdsync backup', process.execPath, [o.cli, 'backup', o.src, join(dir, 'mdsync'), '--json'], join(dir, 'mdsync')],
    ['rsync -a --delete', rsync, ['-a', '--delete', `${o.src}/`, `${join(dir, 'rsync')}/`], join(dir, 'rsync')],
  ];
  const rows: [string, SyscallCounts[]][] = [];
  for (const [label, cmd, args, dst] of tools) {
    console.log(`\nsyscalls: ${label}`);
    spawnSync(cmd, args, { env, stdio: 'ignore' });
    const counts: SyscallCounts[] = [];
    for (let rep = 0; rep < o.runs; rep++) counts.push(await countSyscalls(cmd, args, env, [o.src, dst], join(dir, `${label.split(' ')[0]}-${rep}.strace`)));
    console.log(`  ${JSON.stringify(counts[counts.length - 1])}`);
    rows.push([label, counts]);
  }
  rmSync(dir, { recursive: true, force: true });
  return `${title}\n\nMedians of ${o.runs}, counted with \`strace -f -y\` on both Maildirs.\n\n${syscallTable(rows)}`;
}
