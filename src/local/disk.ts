// The one place mdsync's rules for changing a disk live. A message is created under a name no
// other file has (O_EXCL), its bytes and mtime fsynced before any name points at it, and put in
// place with link(), which refuses a taken name where rename() would overwrite it. A small file
// (a control file, the state) is replaced whole: temp file, fsync, rename over, fsync the
// directory, so a reader or a crash finds the old file or the new one. Errors carry the file's
// path and a stable code; every change is a crash point.

import { closeSync, constants, fchownSync, fsync, fsyncSync, futimesSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { chown, link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { MdsyncError, isErrno } from '../errors.js';
import { tempTag } from './leftovers.js';

/**
 * Who owns what mdsync creates in a Maildir: run as root on someone else's Maildir, new files and
 * directories take the Maildir owner's uid and gid, or the mail server running as that user could
 * not read them. Undefined: the process's own, as the filesystem gives them.
 */
export interface Owner {
  uid: number;
  gid: number;
}

// --- errors ---------------------------------------------------------------------------------

/** A system call's failure as an MdsyncError naming what was being done to which file. */
export function fromErrno(err: unknown, doing: string, path: string): MdsyncError {
  if (err instanceof MdsyncError) return err;
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new MdsyncError('ENOSPACE', `disk full while ${doing} ${path}: free some space and run again`, { cause: err });
    case 'EROFS':
      return new MdsyncError('READ_ONLY', `read-only filesystem while ${doing} ${path}`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new MdsyncError('PERMISSION', `permission denied while ${doing} ${path}`, { cause: err });
    case 'ENOENT':
      return new MdsyncError('NOT_FOUND', `no such file while ${doing} ${path}`, { cause: err });
    default:
      return new MdsyncError('IO', `${e?.code ?? 'error'} while ${doing} ${path}: ${e?.message ?? String(err)}`, { cause: err });
  }
}

// --- crash points ---------------------------------------------------------------------------
// The crash-anywhere proof: MDSYNC_CRASH_AFTER=N kills this process with SIGKILL (what a power
// cut or `kill -9` does) just before its N-th change to a disk, so a test can interrupt a run at
// every point of its work and show that the next run repairs it. The count is shared with the
// I/O threads, which change the disk too. MDSYNC_HANG_AFTER=N makes a thread's N-th change never
// return instead, as on a hung NFS mount.

const crashAfter = Number(process.env.MDSYNC_CRASH_AFTER) || 0;
const hangAfter = Number(process.env.MDSYNC_HANG_AFTER) || 0;
let changes = new Int32Array(new SharedArrayBuffer(4));
let threadChanges = 0;

/** The counter, for a worker thread to share. */
export function crashCounter(): SharedArrayBuffer {
  return changes.buffer as SharedArrayBuffer;
}

/** In a worker thread: count on the process's one counter. */
export function shareCrashCounter(buffer: SharedArrayBuffer): void {
  changes = new Int32Array(buffer);
}

export function crashPoint(): void {
  // Only a thread of the pool hangs: the event loop goes on, as it does while a system call is stuck.
  if (hangAfter > 0 && !isMainThread && ++threadChanges >= hangAfter) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  if (crashAfter > 0 && Atomics.add(changes, 0, 1) + 1 >= crashAfter) process.kill(process.pid, 'SIGKILL');
}

// --- creating and replacing -----------------------------------------------------------------

/** utimes() seconds for an mtime of `ms`: a double loses the last nanoseconds, so aim at the middle of the millisecond and it reads back exactly. */
export function utimeOf(ms: number): number {
  return (ms + 0.5) / 1000;
}

/**
 * Creates a file (never replacing one) with what `write` writes, sets its mtime and fsyncs it. On
 * any failure the file is removed: no partial file is ever left.
 */
export function createFile<T>(path: string, write: (handle: FileHandle) => Promise<T>, mtimeMs?: number, owner?: Owner): Promise<T> {
  return create(path, write, mtimeMs, owner);
}

/** createFile; its errors name `as` (what the file becomes) where given, else the file and the step. */
async function create<T>(path: string, write: (handle: FileHandle) => Promise<T>, mtimeMs?: number, owner?: Owner, as?: { doing: string; path: string }): Promise<T> {
  let handle;
  crashPoint();
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    throw fromErrno(err, as?.doing ?? 'creating', as?.path ?? path);
  }
  let written: T;
  try {
    if (owner) await handle.chown(owner.uid, owner.gid);
    written = await write(handle);
    if (mtimeMs !== undefined) await handle.utimes(utimeOf(mtimeMs), utimeOf(mtimeMs));
    crashPoint();
    // After the mtime, so one fsync makes the bytes and the arrival date durable.
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw fromErrno(err, as?.doing ?? 'writing', as?.path ?? path);
  }
  await handle.close();
  return written;
}

export interface ReplaceOptions {
  /** fsync the directory after the rename (a cache that may be lost need not). Default true. */
  durable?: boolean;
  mtimeMs?: number;
  owner?: Owner;
  /** Create the directory first (the state directory). */
  makeDir?: boolean;
  /** What the error says was being done ("saving state"). Default "replacing". */
  doing?: string;
}

/** A temp file beside `path`, named as mdsync's temp files are (a killed run's is removed by the next). */
export function tempBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${tempTag()}.tmp`);
}

/**
 * Replaces a file whole: a temp file beside it written and fsynced, renamed over it, the directory
 * fsynced. A reader sees the old file or the new one, never a mix; a crash leaves one of them.
 */
export async function replaceFile(path: string, data: string | Uint8Array | Iterable<string | Uint8Array>, options: ReplaceOptions = {}): Promise<void> {
  const doing = options.doing ?? 'replacing';
  const dir = dirname(path);
  if (options.makeDir) await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err) => { throw fromErrno(err, doing, path); });
  const temp = tempBeside(path);
  const parts = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
  // A killed run of the same PID (after a reboot, or PID 1 in a container) left this very name.
  await removeQuietly(temp);
  try {
    await create(temp, async (handle) => {
      // Each writeFile goes on from where the last one ended.
      for (const part of parts) await handle.writeFile(part);
    }, options.mtimeMs, options.owner, { doing, path });
    crashPoint();
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw fromErrno(err, doing, path);
  }
  if (options.durable !== false) await fsyncDir(dir);
}

/**
 * An mtime for a file replacing one last changed at `oldMs`: now, or the second after the old
 * file's if that is not yet past (Dovecot notices a changed control file by its mtime in seconds).
 */
export function laterMtime(oldMs: number | undefined, now = Date.now()): number {
  const oldSecond = oldMs === undefined ? -1 : Math.floor(oldMs / 1000);
  return oldSecond >= Math.floor(now / 1000) ? (oldSecond + 1) * 1000 : now;
}

/** fsyncs a directory, making the names created, renamed or removed in it durable; nothing when it is gone. */
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

// --- placing, renaming, removing ------------------------------------------------------------

/** One change with its crash point; false where the error is one of `expected` (the caller's case to handle), else mapped. */
async function change(op: () => Promise<void>, expected: string[], doing: string, path: string): Promise<boolean> {
  try {
    crashPoint();
    await op();
    return true;
  } catch (err) {
    if (isErrno(err, ...expected)) return false;
    throw fromErrno(err, doing, path);
  }
}

/** Gives a durable file a second name; false where that name is taken (link() never overwrites, as rename() would). */
export function linkNew(from: string, to: string, doing: string): Promise<boolean> {
  return change(() => link(from, to), ['EEXIST'], doing, to);
}

/** rename(); false when `from` is gone (renamed or removed by another program meanwhile). */
export function renameFile(from: string, to: string, doing: string): Promise<boolean> {
  return change(() => rename(from, to), ['ENOENT'], doing, from);
}

/** Moves a directory to `to`; false where `to` holds something (rename() replaces only an empty directory). */
export function moveDir(from: string, to: string, doing: string): Promise<boolean> {
  return change(() => rename(from, to), ['EEXIST', 'ENOTEMPTY'], doing, to);
}

/** unlink(); false when the file is gone already. */
export function removeFile(path: string, doing: string): Promise<boolean> {
  return change(() => unlink(path), ['ENOENT'], doing, path);
}

/** Removes a temp file of ours, if there: nothing to report when it is not. */
/** A log of lines (the batch's joblog) appended to across runs. */
export interface LineLog {
  append(line: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a log for appending whole lines: each with one write(2) under O_APPEND, then fdatasync'ed,
 * so a kill leaves no line half written; a last line a crash cut short is ended first, so the next
 * one does not run on from it.
 */
export async function openLineLog(path: string): Promise<LineLog> {
  const handle = await open(path, 'a+', 0o644).catch((err: unknown) => { throw fromErrno(err, 'opening', path); });
  let queue = Promise.resolve();
  const write = async (text: string): Promise<void> => {
    await handle.write(text);
    await handle.datasync();
  };
  try {
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await write('\n');
    }
  } catch (err) {
    await handle.close();
    throw fromErrno(err, 'writing', path);
  }
  return {
    append(line) {
      const done = queue.then(() => write(`${line}\n`)).catch((err: unknown) => { throw fromErrno(err, 'writing', path); });
      queue = done.catch(() => undefined);
      return done;
    },
    async close() {
      await queue;
      await handle.close();
    },
  };
}

export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

// --- the same rules for the I/O threads: one system call after another, no promise per step ----

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

/**
 * createFile's rules, its fsync left to the caller: the file created (never replacing one), its
 * bytes and mtime written; its descriptor, still open. Undefined when `taken` and the name is taken;
 * on any other failure it throws with nothing left behind.
 */
export function createOpenSync(path: string, data: Uint8Array, mtimeMs: number, owner: Owner | undefined, taken: 'undefined' | 'throw'): number | undefined {
  crashPoint();
  let fd: number;
  try {
    fd = openSync(path, CREATE_FLAGS, 0o600);
  } catch (err) {
    if (taken === 'undefined' && isErrno(err, 'EEXIST')) return undefined;
    throw err;
  }
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    // Before the fsync, so one fsync makes the bytes and the arrival date durable.
    futimesSync(fd, utimeOf(mtimeMs), utimeOf(mtimeMs));
  } catch (err) {
    // Never left behind; least of all half written under its own name, passing for a message.
    closeSync(fd);
    removeQuietlySync(path);
    throw err;
  }
  return fd;
}

export function fsyncNow(fd: number): void {
  crashPoint();
  fsyncSync(fd);
}

const fsyncAsync = promisify(fsync);

/** fsync on libuv's threads, so that many can be issued at once. */
export function fsyncLater(fd: number): Promise<void> {
  crashPoint();
  return fsyncAsync(fd);
}

/** linkNew for the I/O threads: false where the name is taken; other failures throw. */
export function linkNewSync(from: string, to: string): boolean {
  crashPoint();
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
}

export function removeQuietlySync(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}

/** fsyncs a file or directory by path (a journal's parts, its directory). */
export function fsyncPathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
