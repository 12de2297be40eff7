// `mdsync batch`: one backup, sync or verify per user of a list, many at once in this one process
// (no Node start per user), each a run that is safe to repeat. One user's failure never stops the
// others; the joblog says who finished how, for --resume and --retry-failed.

import { readFile } from 'node:fs/promises';
import { MdsyncError } from '../../errors.js';
import { fromErrno, type LineLog } from '../../local/disk.js';
import type { RemoteOptions } from '../../remote/open.js';
import { parseEndpoint } from '../../remote/endpoint.js';
import { EXIT, exitCodeOf, exitOfRun } from '../exit-codes.js';
import { jsonError } from '../report.js';
import { runPair, type PairSettings } from '../run-pair.js';
import { comparePair } from '../verify.js';
import { lastExits, openJoblog, formatJoblogLine } from './joblog.js';
import { RateLimit, waitForLoad } from './limits.js';
import { checkShape, endpointFor, parseUserList, shardOf, type BatchUser, type TemplateShape } from './users.js';
import { describeEndpoint } from '../../remote/endpoint.js';
import { BatchReporter, type UserRow } from './report.js';

export type BatchCommand = 'backup' | 'sync' | 'one-way' | 'verify';

export interface BatchOptions {
  command: BatchCommand;
  /** A file, or `-` for standard input. */
  users: string;
  from: string;
  to: string;
  /** The two templates' shapes (checkTemplate): every user's endpoints must have them. */
  fromShape: TemplateShape;
  toShape: TemplateShape;
  jobs: number;
  joblog?: string;
  resume: boolean;
  retryFailed: boolean;
  shard?: { index: number; count: number };
  bwlimit?: number;
  maxLoad?: number;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  progress: boolean;
  /** Each user's run (sync, backup). */
  pair: PairSettings;
  /** Each user's comparison (verify). */
  verify: { uids: boolean; folder: string[]; exclude: string[] };
  remote: RemoteOptions;
}

function isRemote(endpoint: string): boolean {
  if (endpoint === '') return false;
  try {
    return parseEndpoint(endpoint.replace(/%[und%]/g, 'x')).kind === 'remote';
  } catch {
    return false;
  }
}

async function readUsers(source: string): Promise<string> {
  if (source !== '-') return readFile(source, 'utf8').catch((err: unknown) => { throw fromErrno(err, 'reading the user list', source); });
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The users this machine runs now: its shard, less those --resume skips, or only those --retry-failed takes. */
async function usersToRun<U extends BatchUser>(options: BatchOptions, users: U[]): Promise<{ run: U[]; skipped: number }> {
  const shard = options.shard;
  const mine = shard ? users.filter((u) => shardOf(u.user, shard.count) === shard.index) : users;
  if (!options.resume && !options.retryFailed) return { run: mine, skipped: 0 };
  const last = await lastExits(options.joblog as string);
  const run = mine.filter((u) => {
    const exit = last.get(u.user);
    return options.retryFailed ? exit !== undefined && exit !== EXIT.OK : exit !== EXIT.OK;
  });
  return { run, skipped: mine.length - run.length };
}

export async function runBatch(options: BatchOptions): Promise<number> {
  if ((options.resume || options.retryFailed) && options.joblog === undefined) {
    throw new MdsyncError('USAGE', `${options.resume ? '--resume' : '--retry-failed'} reads the joblog: name it with --joblog FILE`);
  }
  if (options.resume && options.retryFailed) throw new MdsyncError('USAGE', '--resume and --retry-failed do not go together: --resume runs every user not yet done, --retry-failed only those that failed');
  const list = parseUserList(await readUsers(options.users));
  const shard = options.shard;
  // A line refused is reported by the machine whose shard its user falls in, not by every one.
  const refused = shard ? list.refused.filter((r) => shardOf(r.user, shard.count) === shard.index) : list.refused;
  const users = list.users;
  // Endpoints for the whole list, before the shard and the joblog choose: two users given one
  // Maildir are told apart the same way on every machine and every re-run.
  const { run, skipped } = await usersToRun(options, withEndpoints(options, users));
  // A dry run does nothing a joblog should call done: --resume would skip users never copied.
  const joblog: LineLog | undefined = options.joblog !== undefined && !options.pair.dryRun ? await openJoblog(options.joblog) : undefined;
  const reporter = new BatchReporter(options, run.length, skipped);
  const limit = options.bwlimit !== undefined ? new RateLimit(options.bwlimit) : undefined;
  // Over the built-in client, each host's connection stays open between users (one handshake per host).
  const remote = options.remote.sshCommand === undefined && [options.from, options.to, ...users.flatMap((u) => [u.from ?? '', u.to ?? ''])].some(isRemote);
  const connections = remote ? await import('../../remote/ssh-connections.js') : undefined;
  const release = connections?.holdConnections();
  let stopping = false;
  let joblogError: string | undefined;
  const stop = (): void => {
    stopping = true;
    reporter.stopping();
  };
  process.once('SIGTERM', stop);
  try {
    const { default: PQueue } = await import('p-queue');
    const queue = new PQueue({ concurrency: options.jobs });
    for (const user of run) {
      void queue.add(async () => {
        if (options.maxLoad !== undefined) await waitForLoad(options.maxLoad, () => stopping, (load) => reporter.waitingForLoad(load));
        if (stopping) return;
        const drops = connections?.droppedSessions() ?? 0;
        let row = await runUser(options, user, reporter, limit);
        // A dropped connection fails the users on it: each is run once more, on a new one.
        if ((row.error?.code === 'REMOTE' || row.error?.code === 'TIMEOUT') && (connections?.droppedSessions() ?? 0) > drops) {
          reporter.notice(`${user.user}: ${row.error.message}; running it once more`);
          row = await runUser(options, user, reporter, limit);
        }
        reporter.finished(row);
        try {
          await joblog?.append(formatJoblogLine({ user: row.user, start: row.start, seconds: row.seconds, exit: row.exit, copied: row.copied, bytes: row.bytes, error: row.error?.message ?? '' }));
        } catch (err) {
          // Without its record --resume would run this user again at worst; without a joblog at all it cannot be trusted: stop.
          joblogError ??= (err as Error).message;
          stopping = true;
        }
      });
    }
    await queue.onIdle();
  } finally {
    process.removeListener('SIGTERM', stop);
    release?.();
    await joblog?.close().catch((err: unknown) => { joblogError ??= (err as Error).message; });
  }
  return reporter.end(refused, stopping, joblogError);
}

/** A user with its two endpoints, or why it has none. */
interface Planned extends BatchUser {
  source?: string;
  destination?: string;
  problem?: MdsyncError;
}

/**
 * Each user's two endpoints, from the templates or its line, checked against the templates'
 * shapes; a user whose source or destination another user has already is refused: two runs would
 * share one Maildir (its lock, and its mail).
 */
function withEndpoints(options: BatchOptions, users: BatchUser[]): Planned[] {
  const taken = new Map<string, BatchUser>();
  return users.map((u) => {
    try {
      const source = u.from ?? endpointFor(options.fromShape, u.user);
      const destination = u.to ?? endpointFor(options.toShape, u.user);
      if (u.from !== undefined) checkShape(options.fromShape, u.from, u.user);
      if (u.to !== undefined) checkShape(options.toShape, u.to, u.user);
      for (const [what, endpoint] of [['source', source], ['destination', destination]] as const) {
        const key = describeEndpoint(parseEndpoint(endpoint));
        const other = taken.get(key);
        if (other) throw new MdsyncError('BAD_USER', `its ${what} ${key} is user ${other.user}'s (line ${other.line}) too`);
        taken.set(key, u);
      }
      return { ...u, source, destination };
    } catch (err) {
      return { ...u, problem: err instanceof MdsyncError ? err : new MdsyncError('BAD_USER', (err as Error).message) };
    }
  });
}

async function runUser(options: BatchOptions, u: Planned, reporter: BatchReporter, limit: RateLimit | undefined): Promise<UserRow> {
  const startedAt = new Date();
  const t0 = performance.now();
  const row: UserRow = { user: u.user, line: u.line, start: startedAt.toISOString(), seconds: 0, exit: EXIT.OK, copied: 0, bytes: 0 };
  reporter.started(u.user);
  try {
    if (u.problem) throw u.problem;
    row.source = u.source as string;
    row.destination = u.destination as string;
    if (options.command === 'verify') {
      const cmp = await comparePair(row.source, row.destination, options.verify, options.remote);
      row.exit = cmp.nothing !== undefined || cmp.differences.length > 0 ? EXIT.FAILED : EXIT.OK;
      row.verify = { folders: cmp.folders, messages: cmp.messages, differences: cmp.differences.length };
      if (cmp.nothing !== undefined) row.error = { code: 'NO_FOLDER', message: `${cmp.nothing}: nothing compared` };
      else if (cmp.differences.length > 0) row.differences = cmp.differences.map((d) => `${d.folder ? `${d.folder}: ` : ''}${d.what}`);
    } else {
      const settings: PairSettings = {
        ...options.pair,
        onProgress: (e) => reporter.progress(u.user, e),
        pace: limit?.take,
      };
      const outcome = await runPair(row.source, row.destination, settings);
      if (outcome.result) {
        const { result } = outcome;
        row.exit = exitOfRun(result, settings.dryRun);
        row.summary = result.summary;
        row.copied = result.summary.transfers.a + result.summary.transfers.b;
        row.bytes = result.bytes;
        row.warnings = result.warnings.map((w) => (w.folder ? `${w.folder}: ${w.message}` : w.message));
        const failed = result.failed[0];
        if (failed) row.error = { code: 'IO', message: failed.folder ? `${failed.folder}: ${failed.message}` : failed.message };
        else if (result.refused) row.error = jsonError(result.refused);
        else if (row.exit === EXIT.CHANGED) row.error = { code: 'CHANGED_DURING_RUN', message: 'a side changed during the run; run again to include those changes' };
      } else {
        row.warnings = [outcome.missing];
      }
    }
  } catch (err) {
    row.exit = exitCodeOf(err);
    row.error = jsonError(err);
  }
  row.seconds = (performance.now() - t0) / 1000;
  return row;
}
