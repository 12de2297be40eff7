// Small file primitives with the durability rules Maildir needs: fsync'd writes, atomic replace.

import { createHash } from 'node:crypto';
import { constants, readSync } from 'node:fs';
import { chown, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { BODY_CHUNK, isStream } from '../body.js';
import { crashPoint } from '../crash-point.js';
import { MdsyncError, fromErrno, isErrno } from '../errors.js';
import { sha256 } from '../sha256.js';
import { tempTag } from './leftovers.js';
import type { Body } from '../model.js';

// A message file replaced by a symbolic link is never followed: it could point out of the Maildir.
// O_NONBLOCK: a FIFO put in its place would block open() for good (a regular file reads as without it).
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Up to `length` bytes at `offset` of an open file (fewer at its end). */
export function readAtSync(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buffer, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buffer.subarray(0, got);
}

export { sha256 };

async function openForRead(path: string): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    if (isErrno(err, 'ELOOP')) throw new MdsyncError('BAD_NAME', `${path} is a symbolic link: not followed`);
    throw fromErrno(err, 'opening', path);
  }
  // Put there after the listing found a message (a FIFO, a device, a directory): its reads could block or fail.
  const regular = await handle.stat().then((st) => st.isFile(), () => true);
  if (regular) return handle;
  await handle.close();
  throw new MdsyncError('NOT_A_FILE', `${path} is not a regular file (a FIFO, a device or a directory): skipped; remove it or move a message there`);
}

/** Reads a whole file with its mtime; undefined when it does not exist (renamed or expunged meanwhile). */
export async function readWithMtime(path: string): Promise<{ data: Buffer; mtime: number } | undefined> {
  const handle = await openForRead(path);
  if (!handle) return undefined;
  try {
    // The descriptor stays valid through later renames: what we read is this message.
    const st = await handle.stat();
    const data = await handle.readFile();
    return { data, mtime: Math.floor(st.mtimeMs) };
  } catch (err) {
    throw fromErrno(err, 'reading', path);
  } finally {
    await handle.close();
  }
}

async function* chunksOf(handle: FileHandle, path: string): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(BODY_CHUNK);
      let got;
      try {
        got = await handle.read(buffer, 0, BODY_CHUNK, null);
      } catch (err) {
        throw fromErrno(err, 'reading', path);
      }
      if (got.bytesRead === 0) return;
      yield buffer.subarray(0, got.bytesRead);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Opens a message: files up to `inlineMax` bytes are read whole, larger ones become a stream that
 * reads the open descriptor chunk by chunk (and closes it at the end). Undefined when it vanished.
 */
export async function readBody(path: string, inlineMax: number): Promise<{ data: Body; mtime: number } | undefined> {
  const handle = await openForRead(path);
  if (!handle) return undefined;
  let st;
  try {
    st = await handle.stat();
  } catch (err) {
    await handle.close();
    throw fromErrno(err, 'reading', path);
  }
  const mtime = Math.floor(st.mtimeMs);
  if (st.size > inlineMax) return { data: { size: st.size, chunks: chunksOf(handle, path) }, mtime };
  try {
    return { data: await handle.readFile(), mtime };
  } catch (err) {
    throw fromErrno(err, 'reading', path);
  } finally {
    await handle.close();
  }
}

/** SHA-256 of a file (large ones read in chunks); undefined when it does not exist. */
export async function hashFile(path: string): Promise<string | undefined> {
  const got = await readBody(path, BODY_CHUNK);
  if (!got) return undefined;
  if (!isStream(got.data)) return sha256(got.data);
  const hash = createHash('sha256');
  for await (const chunk of got.data.chunks) hash.update(chunk);
  return hash.digest('hex');
}

async function writeBody(handle: FileHandle, data: Body, path: string): Promise<string> {
  const hash = createHash('sha256');
  if (!isStream(data)) {
    await handle.writeFile(data);
    return hash.update(data).digest('hex');
  }
  let written = 0;
  for await (const chunk of data.chunks) {
    written += chunk.length;
    if (written > data.size) break;
    hash.update(chunk);
    crashPoint();
    await handle.write(chunk);
  }
  if (written !== data.size) {
    throw new MdsyncError('IO', `${path}: the message was announced as ${data.size} bytes but ${written > data.size ? 'more' : `only ${written}`} arrived`);
  }
  return hash.digest('hex');
}

/**
 * Who owns what mdsync creates in a Maildir: run as root on someone else's Maildir, new files and
 * directories take the Maildir owner's uid and gid, or the mail server running as that user could
 * not read them. Undefined: the process's own, as the filesystem gives them.
 */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Creates a file (never replacing one) with what `write` writes, sets its mtime and fsyncs it. On
 * any failure the file is removed: no partial file is ever left.
 */
async function createDurable<T>(path: string, write: (handle: FileHandle) => Promise<T>, mtimeMs?: number, owner?: Owner): Promise<T> {
  let handle;
  crashPoint();
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    throw fromErrno(err, 'creating', path);
  }
  let written: T;
  try {
    if (owner) await handle.chown(owner.uid, owner.gid);
    written = await write(handle);
    if (mtimeMs !== undefined) {
      // Seconds as a double lose the last nanoseconds: aim at the middle of the millisecond so
      // the file reads back with exactly this millisecond.
      const t = (mtimeMs + 0.5) / 1000;
      await handle.utimes(t, t);
    }
    crashPoint();
    // After the mtime, so one fsync makes the bytes and the arrival date durable.
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw fromErrno(err, 'writing', path);
  }
  await handle.close();
  return written;
}

/** Writes a new message file durably (createDurable); returns the SHA-256 of what was written. */
export function writeDurable(path: string, data: Body, mtimeMs?: number, owner?: Owner): Promise<string> {
  return createDurable(path, (handle) => writeBody(handle, data, path), mtimeMs, owner);
}

/** Replaces a small control file atomically: temp file, fsync, rename over, fsync the directory. */
export async function replaceFile(path: string, text: string, owner?: Owner): Promise<void> {
  await replaceFileBytes(path, Buffer.from(text), true, undefined, owner);
}

/** mkdir -p, giving every directory it creates to `owner`. */
export async function makeDirs(path: string, owner?: Owner): Promise<void> {
  const first = await mkdir(path, { recursive: true, mode: 0o700 });
  if (!owner || first === undefined) return;
  let dir = first;
  await chown(dir, owner.uid, owner.gid);
  for (const part of relative(first, path).split(sep).filter(Boolean)) {
    dir = join(dir, part);
    await chown(dir, owner.uid, owner.gid);
  }
}

/**
 * An mtime for a file replacing one last changed at `oldMs`: now, or the second after the old
 * file's if that is not yet past (Dovecot notices a changed control file by its mtime in seconds).
 */
export function laterMtime(oldMs: number | undefined, now = Date.now()): number {
  const oldSecond = oldMs === undefined ? -1 : Math.floor(oldMs / 1000);
  return oldSecond >= Math.floor(now / 1000) ? (oldSecond + 1) * 1000 : now;
}

export async function replaceFileBytes(path: string, data: Uint8Array | readonly Uint8Array[], durable: boolean, mtimeMs?: number, owner?: Owner): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${tempTag()}.tmp`);
  await unlink(temp).catch(() => undefined);
  await createDurable(temp, async (handle) => {
    // Each writeFile goes on from where the last one ended.
    for (const chunk of data instanceof Uint8Array ? [data] : data) await handle.writeFile(chunk);
  }, mtimeMs, owner);
  crashPoint();
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw fromErrno(err, 'replacing', path);
  }
  if (durable) await fsyncDir(dirname(path));
}

export async function fsyncDir(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw fromErrno(err, 'syncing directory', path);
  } finally {
    await handle?.close();
  }
}
