// A folder's new/, cur/ and tmp/: their paths, whether they hold a message, and tmp/ cleaned of
// files older than 36 hours (the Maildir spec's rule).

import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import type { Location } from '../model.js';
import { fromErrno } from './disk.js';

const TMP_MAX_AGE_MS = 36 * 3600 * 1000;

export type Subdirs = Record<Location | 'tmp', string>;

export function subdirsOf(dir: string): Subdirs {
  return { new: join(dir, 'new'), cur: join(dir, 'cur'), tmp: join(dir, 'tmp') };
}

/** True when new/ and cur/ hold no message (what a folder deletion requires). */
export async function holdsNoMessage(subdirs: Subdirs): Promise<boolean> {
  for (const sub of ['new', 'cur'] as const) {
    const names = await readdir(subdirs[sub]).catch((err) => {
      if (isErrno(err, 'ENOENT')) return [] as string[];
      throw fromErrno(err, 'listing', subdirs[sub]);
    });
    if (names.some((n) => !n.startsWith('.'))) return false;
  }
  return true;
}

/** Removes tmp/ files older than 36 hours (Maildir spec). */
export async function cleanTmp(tmp: string): Promise<void> {
  const names = await readdir(tmp).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    const st = await stat(join(tmp, name)).catch(() => undefined);
    if (st?.isFile() && now - st.mtimeMs > TMP_MAX_AGE_MS) await unlink(join(tmp, name)).catch(() => undefined);
  }
}
