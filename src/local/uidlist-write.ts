// Writing dovecot-uidlist by Dovecot's rules: under dovecot-uidlist.lock, a whole new file renamed over the old.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { fromErrno, laterMtime, type Owner, replaceFile } from './disk.js';
import { Dotlock } from './lock.js';
import { formatUidlist, type Uidlist } from './uidlist.js';

/** Dovecot's own stale limit for dovecot-uidlist.lock (a dead owner on this host is stale at once). */
export const UIDLIST_LOCK_STALE_MS = 120_000;
const UIDLIST_LOCK_WAIT_MS = 30_000;

/** Takes a folder's dovecot-uidlist.lock, under which Dovecot changes dovecot-uidlist and dovecot-keywords. */
export function lockUidlist(dir: string, what: string): Promise<Dotlock> {
  return Dotlock.acquire(join(dir, 'dovecot-uidlist.lock'), { staleMs: UIDLIST_LOCK_STALE_MS, waitMs: UIDLIST_LOCK_WAIT_MS, what });
}

/**
 * Replaces a folder's dovecot-uidlist. Readers see the old file or the new one, never a mix; the
 * new file's mtime is later than the old one's even within one second, because Dovecot decides
 * whether to re-read the uidlist from its mtime and size.
 */
export async function writeUidlist(dir: string, list: Uidlist, what: string, owner?: Owner): Promise<void> {
  const path = join(dir, 'dovecot-uidlist');
  const lock = await lockUidlist(dir, `the uidlist of ${what}`);
  try {
    const old = await stat(path).catch((err) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw fromErrno(err, 'reading', path);
    });
    await replaceFile(path, formatUidlist(list), { mtimeMs: laterMtime(old?.mtimeMs), ...(owner ? { owner } : {}) });
  } finally {
    await lock.release();
  }
}
