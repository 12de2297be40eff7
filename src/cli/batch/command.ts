// `mdsync batch <command>`: its flags made into BatchOptions, checked before any user runs.

import { MdsyncError } from '../../errors.js';
import { quoted } from '../../printable.js';
import { parsePositiveInt } from '../options.js';
import { remoteOptions, type CommonOptions, type RemoteFlags } from '../flags.js';
import { pairSettings } from '../run-command.js';
import { parseLoad, parseRate } from './limits.js';
import { runBatch, type BatchCommand } from './run-batch.js';
import { checkTemplate, parseShard } from './users.js';
import { MAX_MUX_SESSIONS } from '../../protocol/mux.js';

export interface BatchFlags extends CommonOptions, RemoteFlags {
  users: string;
  from: string;
  to: string;
  joblog?: string;
  resume?: boolean;
  retryFailed?: boolean;
  shard?: string;
  bwlimit?: string;
  maxLoad?: string;
  uids?: boolean;
}

export async function batchCommand(command: string, flags: BatchFlags): Promise<number> {
  if (command !== 'backup' && command !== 'sync' && command !== 'verify') {
    throw new MdsyncError('USAGE', `mdsync batch runs backup, sync or verify, not ${quoted(command)}`);
  }
  const mode: BatchCommand = command === 'sync' && flags.oneWay ? 'one-way' : command;
  const fromShape = checkTemplate('--from', flags.from);
  const toShape = checkTemplate('--to', flags.to);
  const jobs = parsePositiveInt('--jobs', flags.jobs ?? '4');
  // Both sides of every user on one host take two of its far mdsync's sessions (protocol/mux.ts).
  if (jobs > MAX_MUX_SESSIONS / 2) throw new MdsyncError('USAGE', `--jobs takes at most ${MAX_MUX_SESSIONS / 2} users at once in a batch, not ${jobs}`);
  // --jobs counts users here; each user's run keeps the single run's operations in flight.
  const pair = pairSettings(mode === 'verify' ? 'backup' : mode, { ...flags, jobs: undefined });
  // A user's line (-v) is its summary: no run need keep its plan's every operation.
  pair.keepPlan = false;
  return runBatch({
    command: mode,
    users: flags.users,
    from: flags.from,
    to: flags.to,
    fromShape,
    toShape,
    jobs,
    joblog: flags.joblog,
    resume: flags.resume ?? false,
    retryFailed: flags.retryFailed ?? false,
    shard: flags.shard !== undefined ? parseShard(flags.shard) : undefined,
    bwlimit: flags.bwlimit !== undefined ? parseRate(flags.bwlimit) : undefined,
    maxLoad: flags.maxLoad !== undefined ? parseLoad(flags.maxLoad) : undefined,
    json: flags.json ?? false,
    verbose: flags.verbose ?? false,
    quiet: flags.quiet ?? false,
    progress: flags.progress ?? (process.stderr.isTTY && !flags.quiet && !flags.json),
    pair,
    verify: { uids: flags.uids ?? false, folder: flags.folder, exclude: flags.exclude },
    remote: remoteOptions(flags),
  });
}
