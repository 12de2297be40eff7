// Message files read and written many at a time with plain synchronous calls, by disk.ts's rules:
// one call per system call, no promise per step (but for fsyncs on a disk, issued together). Runs in a worker
// thread (pool.ts), or inline for small batches. Anything unusual (a vanished file, a taken
// name, an error) is handed back for the caller's careful one-by-one path, which reports it
// properly.

import { createHash } from 'node:crypto';
import { closeSync, constants, type Stats, fstatSync, openSync, readSync } from 'node:fs';
import { sha256 } from '../../sha256.js';
import { createOpenSync, fsyncLater, fsyncNow, linkNewSync, removeQuietlySync } from '../disk.js';

// O_NONBLOCK: a FIFO put in a message's place blocks no thread (regular files read as without it).
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface ReadJob {
  kind: 'read';
  paths: string[];
  /** Files larger than this are left to the streaming path. */
  inlineMax: number;
}

export type ReadOutcome =
  /** `inode` and `hash` where the file has other names too (twins.ts). */
  | { kind: 'ok'; data: Uint8Array; mtime: number; inode?: string; hash?: string }
  /** Vanished, too large, or anything else: the caller reads it one by one. */
  | { kind: 'again' };

export interface WriteItem {
  tmp: string;
  target: string;
  data: Uint8Array;
  mtimeMs: number;
}

export interface WriteJob {
  kind: 'write';
  items: WriteItem[];
  owner?: { uid: number; gid: number };
  /** The targets are in a folder no other program sees yet (staged): written in place, not through tmp. */
  direct?: boolean;
}

export type WriteOutcome =
  | { kind: 'ok'; hash: string }
  /** Not placed (its name was taken, or an error stopped the batch): the caller places it itself. */
  | { kind: 'again' };

export interface CopyItem {
  source: string;
  tmp: string;
  target: string;
  /** Linked only, to a source with these bytes; otherwise not copied (its outcome is `again`). */
  hash?: string;
}

/** Messages copied file to file within this machine: the bytes never leave this thread. */
export interface CopyJob {
  kind: 'copy';
  items: CopyItem[];
  /** Larger sources are left to the streaming path. */
  inlineMax: number;
  owner?: { uid: number; gid: number };
  /** Sources and targets are in one Maildir: the target name is a hard link to the source's file. */
  link?: boolean;
  /** As WriteJob's. */
  direct?: boolean;
  /** A source with other names is not copied: its outcome is a `twin` (twins.ts). */
  twins?: boolean;
}

export type CopyOutcome =
  | { kind: 'ok'; hash: string; size: number; mtime: number }
  | { kind: 'twin'; inode: string; hash: string; mtime: number }
  /** Not copied (source gone or large, name taken, an error): the caller reads and delivers it. */
  | { kind: 'again' };

/** Content hashes of files, read through one buffer whatever their size. */
export interface HashJob {
  kind: 'hash';
  paths: string[];
}

export type HashOutcome = { kind: 'ok'; hash: string } | { kind: 'again' };

export type Job = ReadJob | WriteJob | CopyJob | HashJob;

/**
 * Runs `use` on the file opened for reading (never through a symbolic link); `otherwise` when it
 * cannot be opened or read: gone, renamed, or anything the one-by-one path will explain.
 */
function withFile<T>(path: string, otherwise: T, use: (fd: number, st: Stats) => T): T {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch {
    return otherwise;
  }
  try {
    // Anything but a regular file (a FIFO, a device) is left to the one-by-one path, which reports it.
    const st = fstatSync(fd);
    return st.isFile() ? use(fd, st) : otherwise;
  } catch {
    return otherwise;
  } finally {
    closeSync(fd);
  }
}

function readOne(path: string, inlineMax: number): ReadOutcome {
  // The descriptor stays valid through later renames: what is read is this message.
  return withFile<ReadOutcome>(path, { kind: 'again' }, (fd, st) => {
    if (st.size > inlineMax) return { kind: 'again' };
    // Its own ArrayBuffer (never Node's shared pool): it is handed to the main thread, not copied.
    let data = Buffer.allocUnsafeSlow(st.size);
    let got = 0;
    for (;;) {
      if (got === data.length) {
        // A file growing while read (never a finished Maildir message, but be exact).
        const probe = Buffer.allocUnsafe(1);
        if (readSync(fd, probe, 0, 1, got) === 0) break;
        return { kind: 'again' };
      }
      const n = readSync(fd, data, got, data.length - got, got);
      if (n === 0) {
        data = data.subarray(0, got);
        break;
      }
      got += n;
    }
    const out: ReadOutcome = { kind: 'ok', data, mtime: Math.floor(st.mtimeMs) };
    if (st.nlink > 1) {
      out.inode = `${st.dev}:${st.ino}`;
      out.hash = sha256(data);
    }
    return out;
  });
}

/** A message file created and written, its descriptor still open: it is durable once fsynced. */
interface Created {
  /** Which item of the batch. */
  index: number;
  fd: number;
  /** Where it was created: its tmp name, or its own name in a staged folder (`direct`). */
  path: string;
  /** Where it goes once durable; undefined when it is there already (`direct`). */
  target?: string;
  hash: string;
}

const AGAIN = Object.freeze({ kind: 'again' as const });

/**
 * Creates the item's file and writes its bytes and mtime, leaving it open for fsync (makeDurable).
 * `direct`: the target's folder is staged (no reader sees it before it is published whole), so the
 * file is created under its name at once, O_EXCL as link() would refuse a taken one; undefined
 * when that name is taken. Throws with nothing left behind.
 */
function createOne(index: number, item: WriteItem, owner: WriteJob['owner'], direct = false): Created | undefined {
  const path = direct ? item.target : item.tmp;
  const fd = createOpenSync(path, item.data, item.mtimeMs, owner, direct ? 'undefined' : 'throw');
  if (fd === undefined) return undefined;
  return { index, fd, path, target: direct ? undefined : item.target, hash: sha256(item.data) };
}

/** An fsync slower than this is a device's (not tmpfs'): the batch's other fsyncs are then issued together. */
const COSTLY_FSYNC_NS = 50_000n;

/**
 * fsyncs every file; the error each met, if any. Where an fsync costs (a disk), all are issued at
 * once on libuv's threads: ext4 and XFS then commit their journal once for many files (group
 * commit) where one fsync after another pays a commit each. Each file is still fsynced through
 * the descriptor it was written through, so a failed write-back is reported for it (an fsync
 * through a descriptor opened later may not see it).
 */
async function makeDurable(files: Created[], costly: bigint): Promise<unknown[]> {
  const errors: unknown[] = new Array(files.length);
  const syncNow = (k: number): void => {
    try {
      fsyncNow(files[k].fd);
    } catch (err) {
      errors[k] = err;
    }
  };
  if (files.length === 0) return errors;
  const started = process.hrtime.bigint();
  syncNow(0);
  if (process.hrtime.bigint() - started < costly) {
    for (let k = 1; k < files.length; k++) syncNow(k);
    return errors;
  }
  await Promise.all(
    files.slice(1).map((file, k) => {
      return fsyncLater(file.fd).catch((err: unknown) => {
        errors[k + 1] = err;
      });
    }),
  );
  return errors;
}

/**
 * Makes the created files durable, closes them and links each to its name (removing its tmp):
 * calls `placed` for each one in place. A file not placed is removed: no copy is left half made,
 * nor one the caller does not know of. A failure other than a taken name leaves the rest unplaced.
 */
async function place(files: Created[], costly: bigint, placed: (file: Created) => void): Promise<void> {
  const errors = await makeDurable(files, costly);
  let stopped = false;
  for (let k = 0; k < files.length; k++) {
    const file = files[k];
    let ok = errors[k] === undefined && !stopped;
    try {
      closeSync(file.fd);
    } catch {
      ok = false;
    }
    if (!ok) {
      removeQuietlySync(file.path);
      continue;
    }
    if (file.target === undefined) {
      placed(file);
      continue;
    }
    try {
      if (linkNewSync(file.path, file.target)) placed(file);
    } catch {
      stopped = true;
    } finally {
      removeQuietlySync(file.path);
    }
  }
}

/** One buffer per thread for copies: no allocation per message. */
let scratch = Buffer.allocUnsafeSlow(256 * 1024);

/** Reads a whole file into the scratch buffer; undefined when it is gone, large or unreadable. */
function readIntoScratch(path: string, inlineMax: number): { data: Buffer; mtime: number; inode?: string } | undefined {
  return withFile<{ data: Buffer; mtime: number; inode?: string } | undefined>(path, undefined, (fd, st) => {
    if (st.size > inlineMax) return undefined;
    if (scratch.length < st.size + 1) scratch = Buffer.allocUnsafeSlow(Math.max(st.size + 1, scratch.length * 2));
    // As long as fstat said: a message in new/ or cur/ is complete (delivered through tmp/).
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, scratch, got, st.size - got, got);
      if (n === 0) return undefined;
      got += n;
    }
    const data = scratch.subarray(0, got);
    return st.nlink > 1 ? { data, mtime: Math.floor(st.mtimeMs), inode: `${st.dev}:${st.ino}` } : { data, mtime: Math.floor(st.mtimeMs) };
  });
}

/**
 * Gives the target name the source's file, as Dovecot copies within a Maildir
 * (maildir_copy_with_hardlinks): no byte written, the arrival date shared. Undefined when the
 * filesystem will not link (EXDEV, EPERM, EMLINK) or the source moved: the caller copies.
 */
function linkOne(item: CopyItem): CopyOutcome | undefined {
  const known = withFile<{ hash: string; size: number; mtime: number } | undefined>(item.source, undefined, (fd, st) => {
    return { hash: hashOpen(fd), size: st.size, mtime: Math.floor(st.mtimeMs) };
  });
  if (!known || (item.hash !== undefined && known.hash !== item.hash)) return undefined;
  try {
    // A source renamed since it was hashed fails here (ENOENT): what was hashed is what is linked.
    if (!linkNewSync(item.source, item.target)) return { kind: 'again' };
  } catch {
    return undefined;
  }
  return { kind: 'ok', ...known };
}

async function copyAll(job: CopyJob, costly: bigint): Promise<CopyOutcome[]> {
  const out: CopyOutcome[] = new Array(job.items.length).fill(AGAIN);
  const created: Created[] = [];
  const sizes: number[] = new Array(job.items.length).fill(0);
  const mtimes: number[] = new Array(job.items.length).fill(0);
  try {
    for (let index = 0; index < job.items.length; index++) {
      const item = job.items[index];
      const linked = job.link ? linkOne(item) : undefined;
      if (linked) {
        out[index] = linked;
        continue;
      }
      // A link to another message's bytes is a link or nothing (the caller sends the message then).
      if (item.hash !== undefined) continue;
      const got = readIntoScratch(item.source, job.inlineMax);
      if (!got) continue;
      if (job.twins && got.inode !== undefined) {
        out[index] = { kind: 'twin', inode: got.inode, hash: sha256(got.data), mtime: got.mtime };
        continue;
      }
      const file = createOne(index, { tmp: item.tmp, target: item.target, data: got.data, mtimeMs: got.mtime }, job.owner, job.direct);
      sizes[index] = got.data.length;
      mtimes[index] = got.mtime;
      if (file) created.push(file);
    }
  } catch {
    // Full disk, read-only, permission: the rest is left to the one-by-one path, which says why.
  }
  await place(created, costly, (file) => {
    out[file.index] = { kind: 'ok', hash: file.hash, size: sizes[file.index], mtime: mtimes[file.index] };
  });
  return out;
}

/** SHA-256 of an open file, read through the scratch buffer whatever its size. */
function hashOpen(fd: number): string {
  const hash = createHash('sha256');
  for (;;) {
    const n = readSync(fd, scratch, 0, scratch.length, null);
    if (n === 0) break;
    hash.update(scratch.subarray(0, n));
  }
  return hash.digest('hex');
}

function hashOne(path: string): HashOutcome {
  return withFile<HashOutcome>(path, { kind: 'again' }, (fd) => ({ kind: 'ok', hash: hashOpen(fd) }));
}



async function writeAll(job: WriteJob, costly: bigint): Promise<WriteOutcome[]> {
  const out: WriteOutcome[] = new Array(job.items.length).fill(AGAIN);
  const created: Created[] = [];
  try {
    for (let index = 0; index < job.items.length; index++) {
      const file = createOne(index, job.items[index], job.owner, job.direct);
      if (file) created.push(file);
    }
  } catch {
    // Full disk, read-only, permission: the rest is left to the one-by-one path, which says why.
  }
  await place(created, costly, (file) => {
    out[file.index] = { kind: 'ok', hash: file.hash };
  });
  return out;
}

/** Runs a job; `costlyFsyncNs`: the fsync time from which a batch's fsyncs are issued together (tests set it). */
export async function runJob(job: Job, costlyFsyncNs = COSTLY_FSYNC_NS): Promise<ReadOutcome[] | WriteOutcome[] | CopyOutcome[] | HashOutcome[]> {
  if (job.kind === 'read') return job.paths.map((p) => readOne(p, job.inlineMax));
  if (job.kind === 'hash') return job.paths.map(hashOne);
  if (job.kind === 'copy') return copyAll(job, costlyFsyncNs);
  return writeAll(job, costlyFsyncNs);
}
