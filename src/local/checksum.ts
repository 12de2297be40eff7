// `--checksum` on this machine: a message's hash and mtime read from its file as it is now (no
// cached hash), and a file's mtime set back to the source's.

import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { BODY_CHUNK, isStream } from '../body.js';
import type { Checksum, MtimeChange } from '../model.js';
import { readBody, sha256 } from './fileio.js';
import { fromErrno, utimeOf } from './disk.js';

/** Where each message's file is (null where unknown), as the folder's listing says. */
export type Locate = (guids: string[]) => Promise<(string | null)[]>;

async function checksumFile(path: string): Promise<Checksum | undefined> {
  const got = await readBody(path, BODY_CHUNK);
  if (!got) return undefined;
  if (!isStream(got.data)) return { hash: sha256(got.data), mtime: got.mtime };
  const hash = createHash('sha256');
  for await (const chunk of got.data.chunks) hash.update(chunk);
  return { hash: hash.digest('hex'), mtime: got.mtime };
}

/** Sets a file's mtime (and atime) to `mtime` ms; false when it is gone. Never follows a link. */
async function setFileMtime(path: string, mtime: number): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fromErrno(err, 'opening', path);
  }
  try {
    await handle.utimes(utimeOf(mtime), utimeOf(mtime));
    return true;
  } catch (err) {
    throw fromErrno(err, 'setting the mtime of', path);
  } finally {
    await handle.close();
  }
}

/** Each message's checksum; null for one gone (or renamed by another process since the listing). */
export async function checksumMany(locate: Locate, guids: string[]): Promise<(Checksum | null)[]> {
  const paths = await locate(guids);
  const out: (Checksum | null)[] = [];
  for (const path of paths) out.push(path === null ? null : (await checksumFile(path)) ?? null);
  return out;
}

/** Sets each message's mtime; false for one gone (or renamed meanwhile). */
export async function setMtimesOf(locate: Locate, items: MtimeChange[]): Promise<boolean[]> {
  const paths = await locate(items.map((c) => c.guid));
  const out: boolean[] = [];
  for (const [i, c] of items.entries()) {
    const path = paths[i] ?? null;
    out.push(path !== null && await setFileMtime(path, c.mtime));
  }
  return out;
}
