// The batch's joblog: a tab-separated line per user, appended as the user finishes (GNU parallel's
// --joblog, in mail words). `--resume` and `--retry-failed` read the last line of each user.

import { readFile } from 'node:fs/promises';
import { isErrno } from '../../errors.js';
import { fromErrno, openLineLog, type LineLog } from '../../local/disk.js';

export const JOBLOG_HEADER = '# user\tstart\tseconds\texit\tcopied\tbytes\terror';

export interface JoblogLine {
  user: string;
  /** ISO 8601, UTC. */
  start: string;
  seconds: number;
  exit: number;
  /** Messages copied, both directions. */
  copied: number;
  bytes: number;
  /** The error's first line, '' when none. */
  error: string;
}

const CONTROL = /[\u0000-\u001f\u007f]+/g;

export function formatJoblogLine(l: JoblogLine): string {
  const error = (l.error.split('\n')[0] ?? '').replace(CONTROL, ' ').trim();
  return [l.user, l.start, l.seconds.toFixed(3), String(l.exit), String(l.copied), String(l.bytes), error].join('\t');
}

/** A line as written; anything else (a comment, a line a crash cut short, a hand edit) is null. */
export function parseJoblogLine(text: string): JoblogLine | null {
  const f = text.split('\t');
  if (f.length !== 7 || text.startsWith('#')) return null;
  const [user, start, seconds, exit, copied, bytes, error] = f as [string, string, string, string, string, string, string];
  if (user === '' || !/^\d+$/.test(exit) || !/^\d+(\.\d+)?$/.test(seconds) || !/^\d+$/.test(copied) || !/^\d+$/.test(bytes)) return null;
  return { user, start, seconds: Number(seconds), exit: Number(exit), copied: Number(copied), bytes: Number(bytes), error };
}

/** Each user's last line's exit code; a joblog not there yet is empty. */
export async function lastExits(path: string): Promise<Map<string, number>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return new Map();
    throw fromErrno(err, 'reading the joblog', path);
  }
  const last = new Map<string, number>();
  for (const line of text.split('\n')) {
    const parsed = parseJoblogLine(line);
    if (parsed) last.set(parsed.user, parsed.exit);
  }
  return last;
}

/** The joblog opened for appending; a new one starts with a header naming the fields. */
export async function openJoblog(path: string): Promise<LineLog> {
  const log = await openLineLog(path);
  const existing = await readFile(path, 'utf8').catch(() => '');
  if (existing.trim() === '') await log.append(JOBLOG_HEADER);
  return log;
}
