// The benchmark's command line: `npm run bench -- [options]`.

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  messages: number;
  folders: number;
  runs: number;
  changes: number;
  seed: number;
  /** Where the work dir is made: tmpfs by default, for steady numbers. */
  dir: string;
  out: string;
  keep: boolean;
  local: boolean;
  ssh: boolean;
  doveadm: boolean;
  /** Run the side-by-side sections (false with --scale-only). */
  sideBySide: boolean;
  scale: boolean;
  scaleSizes: number[];
  /** Run the small-mailbox section (first copies of 50, 2 000, 20 000 messages against rsync). */
  small: boolean;
  smallSizes: number[];
  /** Run the many-mailboxes section (mdsync batch over SSH against per-user runs). */
  batch: boolean;
  batchUsers: number;
  batchMessages: number;
  batchSample: number;
  batchJobs: number;
  scaleFolders: number;
  /** Verify after every repetition, not only the first. */
  verifyAll: boolean;
  /** Count mdsync's and rsync's system calls in a no-change re-run. */
  syscalls: boolean;
  /** Run rsync with --fsync (for a work dir on a disk, where mdsync's fsyncs cost). */
  rsyncFsync: boolean;
  /** The command line as given, for the report. */
  argv: string[];
}

export const USAGE = `usage: node dist/bench/bench.js [options]
  --messages N       corpus size (default 100000)
  --folders N        folders including INBOX (default 20)
  --runs N           repetitions, medians reported (default 3)
  --changes N        deliveries, flag changes, moves and expunges of each kind (default 200)
  --seed N           corpus and changes seed (default 1)
  --dir PATH         where to make the work dir (default $BENCH_DIR, else /dev/shm)
  --out FILE         the report (default bench/RESULTS.md)
  --no-local --no-ssh --no-doveadm   leave those runs out
  --rsync-fsync      run rsync with --fsync, as durable as mdsync (for a --dir on a disk)
  --verify-all       verify after every repetition (default: the first)
  --syscalls         count mdsync's and rsync's system calls in a no-change re-run (strace)
  --scale            also run the scale test; --scale-only runs nothing else
  --scale-sizes LIST message counts for the scale test (default 100000,300000,1000000)
  --scale-folders N  folders in the scale test (default 200)
  --small            also run the small mailboxes (first copies against rsync); --small-only runs nothing else
  --small-sizes LIST message counts for them (default 50,2000,20000)
  --batch            also run many small mailboxes over SSH (mdsync batch against a loop and GNU parallel); --batch-only runs nothing else
  --batch-users N    users (default 1000); --batch-messages N messages each (default 50)
  --batch-sample N   users the per-user peers are timed on, scaled to all (default 100); --batch-jobs N (default 8)
  --keep             keep the work dir`;

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(value)}\n${USAGE}`);
  return n;
}

function defaultDir(): string {
  const fromEnv = process.env.BENCH_DIR;
  if (fromEnv) return resolve(fromEnv);
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string', default: '100000' },
      folders: { type: 'string', default: '20' },
      runs: { type: 'string', default: '3' },
      changes: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      dir: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-local': { type: 'boolean', default: false },
      'no-ssh': { type: 'boolean', default: false },
      'no-doveadm': { type: 'boolean', default: false },
      'verify-all': { type: 'boolean', default: false },
      syscalls: { type: 'boolean', default: false },
      'rsync-fsync': { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      'scale-only': { type: 'boolean', default: false },
      'scale-sizes': { type: 'string', default: '100000,300000,1000000' },
      'scale-folders': { type: 'string', default: '200' },
      small: { type: 'boolean', default: false },
      'small-only': { type: 'boolean', default: false },
      'small-sizes': { type: 'string', default: '50,2000,20000' },
      batch: { type: 'boolean', default: false },
      'batch-only': { type: 'boolean', default: false },
      'batch-users': { type: 'string', default: '1000' },
      'batch-messages': { type: 'string', default: '50' },
      'batch-sample': { type: 'string', default: '100' },
      'batch-jobs': { type: 'string', default: '8' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const scaleOnly = values['scale-only'] === true;
  const smallOnly = values['small-only'] === true;
  const batchOnly = values['batch-only'] === true;
  const only = scaleOnly || smallOnly || batchOnly;
  return {
    messages: positive('messages', values.messages as string),
    folders: positive('folders', values.folders as string),
    runs: positive('runs', values.runs as string),
    changes: positive('changes', values.changes as string),
    seed: positive('seed', values.seed as string),
    dir: values.dir ? resolve(values.dir) : defaultDir(),
    out: resolve(values.out ?? fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url))),
    keep: values.keep === true,
    local: values['no-local'] !== true,
    ssh: values['no-ssh'] !== true,
    doveadm: values['no-doveadm'] !== true,
    sideBySide: !only,
    scale: scaleOnly || (values.scale === true && !only),
    scaleSizes: (values['scale-sizes'] as string).split(',').map((s) => positive('scale-sizes', s.trim())).sort((a, b) => a - b),
    scaleFolders: positive('scale-folders', values['scale-folders'] as string),
    small: smallOnly || (values.small === true && !only),
    batch: batchOnly || (values.batch === true && !only),
    batchUsers: positive('batch-users', values['batch-users'] as string),
    batchMessages: positive('batch-messages', values['batch-messages'] as string),
    batchSample: positive('batch-sample', values['batch-sample'] as string),
    batchJobs: positive('batch-jobs', values['batch-jobs'] as string),
    smallSizes: (values['small-sizes'] as string).split(',').map((s) => positive('small-sizes', s.trim())).sort((a, b) => a - b),
    verifyAll: values['verify-all'] === true,
    syscalls: values.syscalls === true,
    rsyncFsync: values['rsync-fsync'] === true,
    argv,
  };
}
