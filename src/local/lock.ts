// Dotlocks: created by link() of a temp file holding `pid:host` (and the holder's start ticks), so creation is atomic even over NFS.

import { constants, type Stats } from 'node:fs';
import { link, lstat, open, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';
import { isDeadLeftover, tempTag } from './leftovers.js';
import { isOwnerAlive, ownStartTicks } from './liveness.js';
import { fromErrno } from './disk.js';

export interface DotlockOptions {
  /** A lock unchanged for this long is stale even if its owner looks alive. */
  staleMs: number;
  /** How long to wait for a live lock before giving up (0: fail at once). */
  waitMs: number;
  what: string;
  /**
   * Write `pid:host:ticks`, the holder's start time as /proc gives it, judged exactly by the next
   * taker. Only for a lock only mdsync reads: Dovecot takes a third field for part of the host name.
   */
  startTicks?: boolean;
}

/** A takeover claim older than this belongs to a taker that died: the claim takes milliseconds. */
const CLAIM_STALE_MS = 10_000;
/** Enough of a lock file for `pid:host:ticks`; nothing more of it is read. */
const LOCK_READ_MAX = 256;

/** A lock file as found: which file it is, whose, and whether its owner is gone. */
interface Seen {
  dev: number;
  ino: number;
  owner: string;
  stale: boolean;
}

const sameFile = (a: { dev: number; ino: number }, b: { dev: number; ino: number }): boolean => a.dev === b.dev && a.ino === b.ino;

/** `skewMs`: how far the filesystem's clock (an NFS server's) runs ahead of ours, for comparing its mtimes. */
async function inspect(path: string, staleMs: number, skewMs: number): Promise<Seen | undefined> {
  let handle;
  try {
    // Never through a symbolic link, never blocking on a FIFO.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    if (isErrno(err, 'ELOOP')) throw notALockFile(path);
    throw fromErrno(err, 'reading lock', path);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notALockFile(path);
    const buf = Buffer.alloc(LOCK_READ_MAX);
    const { bytesRead } = await handle.read(buf, 0, LOCK_READ_MAX, 0);
    // An older mdsync matches none of `pid:host:ticks`: it judges such a lock by its age alone, never dead early.
    const m = /^(\d{1,10}):([A-Za-z0-9._-]{1,200})(?::(\d{1,15}))?\s*$/.exec(buf.toString('latin1', 0, bytesRead));
    const pid = Number(m?.[1]);
    const ours = m?.[2] === hostname() && pid > 0;
    // A time from the clock (btime, an mtime) can be off by a step of the clock; ticks cannot.
    const written = m?.[3] !== undefined ? { ticks: Number(m[3]) } : { atMs: st.mtimeMs - skewMs };
    const stale = (ours && !isOwnerAlive(pid, written)) || Date.now() - st.mtimeMs > staleMs;
    return { dev: st.dev, ino: st.ino, owner: m ? `${m[1]}:${m[2]}` : '?', stale };
  } catch (err) {
    throw fromErrno(err, 'reading lock', path);
  } finally {
    await handle.close();
  }
}

function notALockFile(path: string): MdsyncError {
  return new MdsyncError('LOCKED', `lock file ${path} is not a regular file: remove it once no mdsync or Dovecot works on that folder`);
}

/**
 * Removes the stale lock `seen` if it is still the one at `path`. Unlinking whatever is there would
 * race (A and B judge it stale, A replaces it, B unlinks A's fresh lock): a taker first claims this
 * very file by linking it to a name made of its inode, which only one taker at a time can create.
 */
async function removeStale(path: string, seen: Seen, staleMs: number, skewMs: number): Promise<'removed' | 'busy' | 'changed'> {
  const claim = `${path}.takeover-${seen.ino}`;
  try {
    await link(path, claim);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 'changed';
    if (!isErrno(err, 'EEXIST')) throw fromErrno(err, 'taking over stale lock', path);
    // link() set the claim's ctime: an old claim is a dead taker's, and the file it names is the stale lock.
    const st = await lstat(claim).catch(() => undefined);
    if (st && sameFile(st, seen) && Date.now() - st.ctimeMs > CLAIM_STALE_MS) await unlink(claim).catch(() => undefined);
    return 'busy';
  }
  try {
    const claimed = await lstat(claim);
    if (!sameFile(claimed, seen)) return 'changed';
    // Its owner may have refreshed it since it was judged: judged again, through the claim.
    if (!(await inspect(claim, staleMs, skewMs))?.stale) return 'changed';
    // Only a program that takes no claims (Dovecot, for its uidlist lock) can replace it between these two calls.
    const current = await lstat(path).catch(() => undefined);
    if (!current || !sameFile(current, seen)) return 'changed';
    await unlink(path).catch((err) => {
      if (!isErrno(err, 'ENOENT')) throw fromErrno(err, 'removing stale lock', path);
    });
    return 'removed';
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

/** Paths whose directory was cleared of dead runs' temp files by this process already. */
const swept = new Set<string>();

/**
 * Removes what dead runs left next to a lock: their temp files (`<lock>.<random>.mdsync-<pid>@<host>`),
 * which a kill between writing and linking leaves, and claims of takers that died. Once per process.
 */
async function sweep(path: string): Promise<void> {
  if (swept.has(path)) return;
  swept.add(path);
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const file = join(dir, name);
    if (await isDeadLeftover(dir, name)) {
      await unlink(file).catch(() => undefined);
    } else if (/^takeover-\d+$/.test(name.slice(prefix.length))) {
      const st = await lstat(file).catch(() => undefined);
      if (st?.isFile() && Date.now() - st.ctimeMs > CLAIM_STALE_MS) await unlink(file).catch(() => undefined);
    }
  }
}

export class Dotlock {
  /** `tookOver`: the lock was left by a process that died (its work may be half done). */
  private constructor(readonly path: string, readonly tookOver: boolean) {}

  static async acquire(path: string, options: DotlockOptions): Promise<Dotlock> {
    const temp = `${path}.${Math.random().toString(36).slice(2)}.${tempTag()}`;
    let mine: Stats;
    let skewMs: number;
    try {
      const ticks = options.startTicks ? ownStartTicks() : undefined;
      await writeFile(temp, `${process.pid}:${hostname()}${ticks === undefined ? '' : `:${ticks}`}\n`, { flag: 'wx' });
      mine = await stat(temp);
      // Measured after the write, so it errs towards a lock looking younger: its owner alive.
      skewMs = mine.mtimeMs - Date.now();
    } catch (err) {
      // A full disk fails the write after the file was made: it must not stay behind.
      if (!isErrno(err, 'EEXIST')) await unlink(temp).catch(() => undefined);
      throw fromErrno(err, 'creating lock', temp);
    }
    const deadline = Date.now() + options.waitMs;
    let tookOver = false;
    try {
      for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
        let linked = false;
        try {
          await link(temp, path);
          linked = true;
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw fromErrno(err, 'creating lock', path);
        }
        const seen = await inspect(path, options.staleMs, skewMs);
        if (!seen) continue;
        // As Dovecot's file-dotlock.c: held only if the lock is the file we made, whatever link() said
        // (another taker may have replaced ours at once; NFS may report a link that was made as failed).
        if (sameFile(seen, mine)) {
          await sweep(path);
          return new Dotlock(path, tookOver);
        }
        if (linked) continue;
        if (seen.stale) {
          // Whoever gets the lock next finishes the dead owner's work, whichever taker removed it.
          tookOver = true;
          const removed = await removeStale(path, seen, options.staleMs, skewMs);
          if (removed !== 'busy') continue;
        } else if (Date.now() >= deadline) {
          throw new MdsyncError('LOCKED', `${options.what} is locked by another process (${seen.owner}, lock file ${path}); try again when it has finished`);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    await unlink(this.path).catch((err) => {
      if (!isErrno(err, 'ENOENT')) throw fromErrno(err, 'removing lock', this.path);
    });
  }
}
