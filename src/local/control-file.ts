// Reading a Maildir's control files (subscriptions, dovecot-keywords, dovecot-uidlist, dovecot.index*) confined: no link followed, nothing but a regular file, bounded.

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { MdsyncError, isErrno } from '../errors.js';
import { fromErrno } from './disk.js';

/**
 * The most bytes read of each control file. A file past its bound is refused, never read whole:
 * `dovecot.index -> /dev/zero` once grew a run to 19.5 GB.
 */
export const CONTROL_FILE_MAX = {
  /** One line per folder: 64 000 folders of 1 KB names. */
  subscriptions: 64 * 1024 * 1024,
  /** 26 keywords of at most 255 bytes each, with room for a hand-edited file. */
  keywords: 64 * 1024,
  /** About 100 bytes a message: five million messages in one folder. */
  uidlist: 512 * 1024 * 1024,
  /** Dovecot rotates its transaction log at a few MB; only its header is read of dovecot.index. */
  indexLog: 64 * 1024 * 1024,
  indexHeader: 4096,
} as const;

// O_NOFOLLOW: a link could lead out of the Maildir (to a root-only file when root runs a
// migration). O_NONBLOCK: opening a FIFO with no writer blocks forever without it.
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface ControlFile {
  data: Buffer;
  mtimeMs: number;
  /** Inode and size as read: a file replaced or grown since differs in one of them (or its mtime). */
  ino: number;
  size: number;
}

function refused(path: string, what: string): MdsyncError {
  return new MdsyncError('BAD_CONTROL_FILE', `${path} ${what}: not read; replace it with a regular file or remove it`);
}

function kindOf(st: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isDirectory(): boolean; isSocket(): boolean }): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'something else';
}

/**
 * A control file's bytes (at most `max`, or only the first `max` with `prefix`) and its mtime;
 * undefined when it does not exist. A link, a FIFO, a device or a file past its bound is a
 * BAD_CONTROL_FILE error naming the file and what it is; the error never holds its content.
 */
export async function readControlFile(path: string, max: number, options: { prefix?: boolean } = {}): Promise<ControlFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, FLAGS);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    if (isErrno(err, 'ELOOP')) throw refused(path, 'is a symbolic link');
    throw fromErrno(err, 'reading', path);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw refused(path, `is not a regular file (${kindOf(st)})`);
    if (st.size > max && !options.prefix) throw refused(path, `is larger than ${max} bytes`);
    // One byte more than allowed tells a file that grew past its bound since fstat.
    const want = options.prefix ? Math.min(st.size, max) : Math.min(st.size, max) + 1;
    const buffer = Buffer.allocUnsafe(Math.max(want, 1));
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(buffer, got, want - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > max) throw refused(path, `is larger than ${max} bytes`);
    return { data: buffer.subarray(0, got), mtimeMs: st.mtimeMs, ino: st.ino, size: st.size };
  } catch (err) {
    throw fromErrno(err, 'reading', path);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** readControlFile as text; undefined when the file does not exist. */
export async function readControlText(path: string, max: number): Promise<string | undefined> {
  return (await readControlFile(path, max))?.data.toString('utf8');
}
