// Small file primitives with the durability rules Maildir needs: fsync'd writes, atomic replace.

import { createHash } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { fromErrno, isErrno } from '../errors.js';

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Reads a whole file with its mtime; undefined when it does not exist (renamed or expunged meanwhile). */
export async function readWithMtime(path: string): Promise<{ data: Buffer; mtime: number } | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw fromErrno(err, 'opening', path);
  }
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

/** Writes a new file (never replacing one), fsyncs it and sets its mtime. */
export async function writeDurable(path: string, data: Uint8Array, mtimeMs?: number): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    throw fromErrno(err, 'creating', path);
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
    if (mtimeMs !== undefined) {
      // Seconds as a double lose the last nanoseconds: aim at the middle of the millisecond so
      // the file reads back with exactly this millisecond.
      const t = (mtimeMs + 0.5) / 1000;
      await handle.utimes(t, t);
    }
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw fromErrno(err, 'writing', path);
  }
  await handle.close();
}

/** Replaces a small control file atomically: temp file, fsync, rename over, fsync the directory. */
export async function replaceFile(path: string, text: string): Promise<void> {
  await replaceFileBytes(path, Buffer.from(text), true);
}

export async function replaceFileBytes(path: string, data: Uint8Array, durable: boolean): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${hostname()}.${process.pid}.tmp`);
  await unlink(temp).catch(() => undefined);
  await writeDurable(temp, data);
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
