// Reading message files (never through a symbolic link, never blocking on a FIFO), and writing one
// by disk.ts's rules.

import { createHash } from 'node:crypto';
import { constants, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { BODY_CHUNK, isStream } from '../body.js';
import { MdsyncError, isErrno } from '../errors.js';
import { sha256 } from '../sha256.js';
import type { Body } from '../model.js';
import { crashPoint, createFile, fromErrno, type Owner } from './disk.js';

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

/** Writes a new message file by disk.ts's rules (createFile); returns the SHA-256 of what was written. */
export function writeDurable(path: string, data: Body, mtimeMs?: number, owner?: Owner): Promise<string> {
  return createFile(path, (handle) => writeBody(handle, data, path), mtimeMs, owner);
}
