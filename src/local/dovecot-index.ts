// Dovecot's own UIDNEXT for a Maildir folder, read from its index files. dovecot-uidlist's header
// lags behind: after the highest UID is expunged, only the index still knows that UID was given.

import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTROL_FILE_MAX, readControlFile, type ControlFile } from './control-file.js';
import { UIDLIST_LOCK_STALE_MS } from './uidlist-write.js';

/** Dovecot's index files of a folder: removed where mdsync rewrites what they index (UIDs), or the folder. */
export const DOVECOT_INDEX_FILES = ['dovecot.index', 'dovecot.index.log', 'dovecot.index.log.2', 'dovecot.index.cache'] as const;

const INDEX_MAJOR = 7;
const LOG_MAJOR = 1;
// mail_index_header: next_uid is the uint32 at byte 28; compat_flags at byte 12.
const INDEX_NEXT_UID = 28;
const COMPAT_LITTLE_ENDIAN = 0x01;
const APPEND = 0x02;
const HEADER_UPDATE = 0x20;

/** Only a hint: a file that is missing, unusable (a link, a device…) or too big counts as absent. */
async function readOptional(path: string, max: number, prefix = false): Promise<Buffer | undefined> {
  return (await readControlFile(path, max, { prefix }).catch(() => undefined))?.data;
}


/** A record size in the log: four bytes, 7 bits each with the high bit set, counting 4-byte units. */
function recordSize(v: number): number {
  if ((v & 0x80808080) >>> 0 !== 0x80808080) return 0;
  return ((v & 0x7f) | (((v >>> 8) & 0x7f) << 7) | (((v >>> 16) & 0x7f) << 14) | (((v >>> 24) & 0x7f) << 21)) * 4;
}

/** The highest UIDNEXT a transaction log shows: appended UIDs + 1, and header updates of next_uid. */
function nextUidFromLog(log: Buffer): number {
  if (log.length < 40 || log[0] !== LOG_MAJOR) return 0;
  const headerSize = log.readUInt16LE(2);
  // compat_flags follow the 64-bit initial_modseq; the numbers are in the writer's byte order.
  if (headerSize < 40 || ((log[32] ?? 0) & COMPAT_LITTLE_ENDIAN) === 0) return 0;
  let next = 0;
  for (let at = headerSize; at + 8 <= log.length;) {
    const size = recordSize(log.readUInt32BE(at));
    if (size < 8 || at + size > log.length) break;
    const type = log.readUInt32LE(at + 4) & 0xffff;
    const data = log.subarray(at + 8, at + size);
    if (type === APPEND) {
      for (let i = 0; i + 8 <= data.length; i += 8) next = Math.max(next, data.readUInt32LE(i) + 1);
    } else if (type === HEADER_UPDATE) {
      for (let i = 0; i + 4 <= data.length;) {
        const offset = data.readUInt16LE(i);
        const length = data.readUInt16LE(i + 2);
        const start = i + 4;
        if (offset <= INDEX_NEXT_UID && offset + length >= INDEX_NEXT_UID + 4 && start + INDEX_NEXT_UID - offset + 4 <= data.length) {
          next = Math.max(next, data.readUInt32LE(start + INDEX_NEXT_UID - offset));
        }
        i = start + Math.ceil(length / 4) * 4;
      }
    }
    at += size;
  }
  return next;
}

/** UIDNEXT as Dovecot's index files have it; 0 when there are none or they are unreadable here. */
export async function dovecotNextUid(dir: string): Promise<number> {
  let next = 0;
  const index = await readOptional(join(dir, 'dovecot.index'), CONTROL_FILE_MAX.indexHeader, true);
  if (index && index.length >= 32 && index[0] === INDEX_MAJOR && ((index[12] ?? 0) & COMPAT_LITTLE_ENDIAN) !== 0) {
    next = index.readUInt32LE(INDEX_NEXT_UID);
  }
  for (const name of ['dovecot.index.log.2', 'dovecot.index.log']) {
    const log = await readOptional(join(dir, name), CONTROL_FILE_MAX.indexLog);
    if (log) next = Math.max(next, nextUidFromLog(log));
  }
  return next;
}

/**
 * Dovecot's UIDNEXT read beside a dovecot-uidlist already read, or undefined when the two may not
 * match. Dovecot gives a new UID in its index and in the uidlist under dovecot-uidlist.lock: read
 * while it does, the index counts a UID the uidlist read does not name yet, and a backup would
 * give its replica a NEXTUID past a message it does not hold (its next run then renews the
 * replica's UIDVALIDITY). The uidlist unchanged and no live lock after the index was read: none
 * of Dovecot's commits overlapped the two reads.
 */
export async function nextUidBeside(dir: string, uidlist: ControlFile): Promise<number | undefined> {
  const next = await dovecotNextUid(dir);
  const now = await lstat(join(dir, 'dovecot-uidlist')).catch(() => undefined);
  const lock = await lstat(join(dir, 'dovecot-uidlist.lock')).catch(() => undefined);
  if (lock && Date.now() - lock.mtimeMs < UIDLIST_LOCK_STALE_MS) return undefined;
  if (!now || now.ino !== uidlist.ino || now.size !== uidlist.size || now.mtimeMs !== uidlist.mtimeMs) return undefined;
  return next;
}
