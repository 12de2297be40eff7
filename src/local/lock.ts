// Dotlocks: created by link() of a temp file holding `pid:host`, so creation is atomic even over NFS.

import { hostname } from 'node:os';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { MdsyncError, fromErrno, isErrno } from '../errors.js';
import { isAlive, tempTag } from './leftovers.js';

export interface DotlockOptions {
  /** A lock unchanged for this long is stale even if its owner looks alive. */
  staleMs: number;
  /** How long to wait for a live lock before giving up (0: fail at once). */
  waitMs: number;
  what: string;
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  let content: string;
  let mtimeMs: number;
  try {
    [content, { mtimeMs }] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return true;
    throw err;
  }
  const [pidText, host] = content.trim().split(':');
  const pid = Number(pidText);
  if (host === hostname() && Number.isInteger(pid) && pid > 0 && !isAlive(pid)) return true;
  return Date.now() - mtimeMs > staleMs;
}

export class Dotlock {
  /** `tookOver`: the lock was left by a process that died (its work may be half done). */
  private constructor(readonly path: string, readonly tookOver: boolean) {}

  static async acquire(path: string, options: DotlockOptions): Promise<Dotlock> {
    const temp = `${path}.${Math.random().toString(36).slice(2)}.${tempTag()}`;
    try {
      await writeFile(temp, `${process.pid}:${hostname()}\n`, { flag: 'wx' });
    } catch (err) {
      throw fromErrno(err, 'creating lock', temp);
    }
    const deadline = Date.now() + options.waitMs;
    let tookOver = false;
    try {
      for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
        try {
          await link(temp, path);
          return new Dotlock(path, tookOver);
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw fromErrno(err, 'creating lock', path);
        }
        if (await isStale(path, options.staleMs)) {
          // Another taker may remove and re-create it between our check and unlink; the
          // link() that follows is still the arbiter, so at worst we wait one more round.
          await unlink(path).catch((err) => {
            if (!isErrno(err, 'ENOENT')) throw fromErrno(err, 'removing stale lock', path);
          });
          tookOver = true;
          continue;
        }
        if (Date.now() >= deadline) {
          const owner = (await readFile(path, 'utf8').catch(() => '?')).trim();
          throw new MdsyncError('LOCKED', `${options.what} is locked by another process (${owner}, lock file ${path}); try again when it has finished`);
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
