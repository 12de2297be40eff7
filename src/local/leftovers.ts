// Names of the temporary files mdsync creates, and the clean-up of those a killed run left behind.
// Every temp name carries `mdsync-<pid>@<host>`: a file is only ever removed when its creator is a
// process of this host that no longer exists, is a zombie or was followed by a later process under
// its PID, so a live run's (or another program's) files are safe.

import { lstat, readdir, rm, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { isErrno } from '../errors.js';
import { isOwnerAlive } from './liveness.js';

/** The part of a temp file's name that says which process made it. */
export function tempTag(): string {
  // One system call per run, not per file: neither changes while a run goes on.
  tag ??= `mdsync-${process.pid}@${hostname()}`;
  return tag;
}

let tag: string | undefined;

const TAGGED = /mdsync-(\d+)@([^/]+?)(\.tmp)?$/;
/** A folder a run was building (staged) in a tmp/ directory: `<time>.F<n>.mdsync-<pid>@<host>`. */
const STAGED = /^\d+\.F\d+\.mdsync-\d+@[^/]+$/;

/** The temp file `name` in `dir` was made by an mdsync process of this host that has died. */
export async function isDeadLeftover(dir: string, name: string): Promise<boolean> {
  const m = TAGGED.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (m[2] !== hostname() || pid === process.pid) return false;
  if (!isOwnerAlive(pid)) return true;
  // Its PID may be a later process's (after a reboot). The ctime, not the mtime: a message's temp
  // file carries the message's own mtime, and nothing sets a ctime back.
  const st = await lstat(join(dir, name)).catch(() => undefined);
  return st !== undefined && !isOwnerAlive(pid, { atMs: st.ctimeMs });
}

/** Removes a killed run's temp files from a directory, and the folders it was building there (staged); returns how many. */
export async function removeLeftovers(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    if (!(await isDeadLeftover(dir, name))) continue;
    const path = join(dir, name);
    await unlink(path).catch((err) => {
      // A directory goes only where it can be a staged folder: a mail folder may bear any name.
      if (!isErrno(err, 'EISDIR', 'EPERM') || basename(dir) !== 'tmp' || !STAGED.test(name)) throw err;
      return rm(path, { recursive: true, force: true });
    }).then(() => { removed++; }, () => undefined);
  }
  return removed;
}

const swept = new Set<string>();

/**
 * removeLeftovers, once per directory and process: for the directories every Maildir of a batch
 * shares (the state and the scan cache), where a listing per run would grow with the users run.
 */
export async function removeLeftoversOnce(dir: string): Promise<void> {
  if (swept.has(dir)) return;
  swept.add(dir);
  await removeLeftovers(dir).catch(() => undefined);
}
