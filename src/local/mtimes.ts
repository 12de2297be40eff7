// Arrival times (mtimes) of message files, and which a move may hard-link without changing one.

import { stat } from 'node:fs/promises';

/** Each file's mtime in whole milliseconds, as reads report it; null where it is gone (renamed or expunged). */
export async function mtimesOf(paths: readonly (string | null)[]): Promise<(number | null)[]> {
  return Promise.all(paths.map(async (path) => {
    if (path === null) return null;
    const st = await stat(path).catch(() => undefined);
    return st ? Math.floor(st.mtimeMs) : null;
  }));
}

/**
 * Whether each file may become the copy by a hard link: no arrival time is asked, or the file has
 * it. A link shares the inode, so setting another mtime on it would change every other name's too.
 */
export async function linkable(paths: readonly string[], wanted: readonly (number | undefined)[]): Promise<boolean[]> {
  const asked = paths.map((p, i) => (wanted[i] === undefined ? null : p));
  const got = await mtimesOf(asked);
  return got.map((m, i) => wanted[i] === undefined || m === wanted[i]);
}
