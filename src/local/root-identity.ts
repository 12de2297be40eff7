// A Maildir root's identity, as hello reports it: what a saved state of its pair is keyed by.

import { stat } from 'node:fs/promises';

/**
 * dev:ino, and the directory's birth time (statx) where the filesystem keeps one: a directory made
 * after another was removed can get its inode back (ext4, XFS, tmpfs hand a freed one straight out),
 * and would inherit the removed one's state, every message it lacks expunged from the other side;
 * its birth time differs. Not an id file in the root: a read-only source cannot hold one, and a
 * copy of the Maildir would carry it along. A filesystem with no birth time keeps dev:ino alone.
 */
export async function rootIdentity(root: string): Promise<string> {
  const st = await stat(root, { bigint: true });
  return st.birthtimeNs > 0n ? `${st.dev}:${st.ino}:b${st.birthtimeNs}` : `${st.dev}:${st.ino}`;
}
