// A folder's Dovecot control files as a folder reads and writes them: dovecot-uidlist with the
// UIDNEXT Dovecot's index adds, dovecot-keywords grown under Dovecot's lock, and a backup's
// uidlist written with the index files that would contradict it removed.

import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';
import type { UidlistRequest } from '../model.js';
import { CONTROL_FILE_MAX, readControlFile } from './control-file.js';
import { DOVECOT_INDEX_FILES, nextUidBeside } from './dovecot-index.js';
import { KeywordMap } from './keywords.js';
import { parseUidlist, withField, type Uidlist } from './uidlist.js';
import { lockUidlist, writeUidlist } from './uidlist-write.js';
import { fromErrno, laterMtime, type Owner, replaceFile } from './disk.js';

/** Reads of dovecot-uidlist and the index while Dovecot commits, before the index is left out (about 0.3 s in all). */
const UIDLIST_READ_ATTEMPTS = 5;

export interface UidlistRead {
  uidlist?: Uidlist;
  /** Dovecot committed through every read of the uidlist and index: UIDNEXT is not known this run. */
  nextUidUnknown?: boolean;
}

/** dovecot-uidlist with the UIDNEXT Dovecot's index adds, read where no Dovecot commit overlapped; a damaged one is warned about and left out. */
export async function readUidlistIn(home: string, warn: (message: string) => void): Promise<UidlistRead> {
  const ulPath = join(home, 'dovecot-uidlist');
  try {
    for (let attempt = 1; ; attempt++) {
      // Unusable as a damaged one is: warned about, and the folder synced without its UIDs.
      const file = await readControlFile(ulPath, CONTROL_FILE_MAX.uidlist);
      if (file === undefined) return {};
      const uidlist = parseUidlist(file.data.toString('utf8'), ulPath);
      // Dovecot writes records before it moves the header's NEXTUID on, and after an expunge of
      // the highest UID only its index remembers it: the real UIDNEXT is the highest of the three.
      const indexNext = await nextUidBeside(home, file);
      if (indexNext === undefined && attempt < UIDLIST_READ_ATTEMPTS) {
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
        continue;
      }
      let highest = 0;
      for (const r of uidlist.records.values()) highest = Math.max(highest, r.uid);
      uidlist.nextUid = Math.max(uidlist.nextUid, highest + 1, indexNext ?? 0);
      if (indexNext !== undefined) return { uidlist };
      // Still mid-commit after every attempt (or a lock a dead Dovecot left): without the index,
      // NEXTUID may be below what a replica was given, so none is told (a backup copies this
      // folder's UIDs in a later run).
      warn(`${ulPath}: Dovecot kept dovecot-uidlist.lock through the scan: the folder's UIDNEXT is read again next run`);
      return { uidlist, nextUidUnknown: true };
    }
  } catch (err) {
    if (!(err instanceof MdsyncError) || !['BAD_UIDLIST', 'BAD_CONTROL_FILE'].includes(err.code)) throw err;
    warn(err.message);
    return {};
  }
}

/**
 * Gives letters to keyword names in dovecot-keywords as it is now: Dovecot may have added names
 * since the scan (maildir-keywords.c does, under dovecot-uidlist.lock), so the file is re-read
 * under that lock, new names take free letters in what it says, and it is written back before
 * the lock goes. `apply` takes the map as written into use, under the lock.
 */
export async function addKeywordNames(home: string, names: string[], label: string, owner: Owner | undefined, apply: (fresh: KeywordMap) => void): Promise<void> {
  const path = join(home, 'dovecot-keywords');
  const lock = await lockUidlist(home, label);
  try {
    const old = await readControlFile(path, CONTROL_FILE_MAX.keywords);
    const fresh = old ? KeywordMap.parse(old.data.toString('utf8'), path) : new KeywordMap();
    fresh.lettersFor(names.filter((n) => !fresh.has(n)));
    // Dovecot re-reads the file only when its mtime moves on by a whole second.
    if (fresh.changed) await replaceFile(path, fresh.takeChanges(), { mtimeMs: laterMtime(old?.mtimeMs), ...(owner ? { owner } : {}) });
    // Taken into use before the lock goes: a listing read meanwhile finds the map the file says.
    apply(fresh);
  } finally {
    await lock.release();
  }
}

/** The uidlist a backup's request makes of `current`, for the files the folder holds; undefined when it already says that. */
export function requestedUidlist(request: UidlistRequest, current: Uidlist | undefined, holds: (guid: string) => boolean): Uidlist | undefined {
  const records = new Map<string, { uid: number; fields: string[] }>();
  for (const [guid, uid, dovecotGuid] of request.uids) {
    if (holds(guid)) records.set(guid, { uid, fields: withField(current?.records.get(guid)?.fields ?? [], 'G', dovecotGuid ?? undefined) });
  }
  const headerExtra = request.mailboxGuid === undefined ? current?.headerExtra ?? [] : withField(current?.headerExtra ?? [], 'G', request.mailboxGuid);
  const same = current !== undefined && current.uidValidity === request.uidValidity && current.nextUid === request.nextUid &&
    current.headerExtra.join(' ') === headerExtra.join(' ') && current.records.size === records.size &&
    [...records].every(([g, r]) => current.records.get(g)?.uid === r.uid && current.records.get(g)?.fields.join(' ') === r.fields.join(' '));
  return same ? undefined : { version: 3, uidValidity: request.uidValidity, nextUid: request.nextUid, headerExtra, records };
}

/**
 * Writes dovecot-uidlist (under its lock) and removes the folder's index files: Dovecot rebuilds
 * them from the uidlist, where stale ones would contradict it.
 */
export async function replaceUidlist(home: string, list: Uidlist, label: string, owner: Owner | undefined): Promise<void> {
  await writeUidlist(home, list, label, owner);
  for (const file of DOVECOT_INDEX_FILES) {
    await unlink(join(home, file)).catch((err) => {
      if (!isErrno(err, 'ENOENT')) throw fromErrno(err, 'removing', join(home, file));
    });
  }
}
