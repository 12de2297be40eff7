// Which message files a run wrote anew: inodes present after it that were not there before.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An inode's identity: device, number and birth time. A rename keeps all three; a copy makes a new
 * inode, and the birth time tells it apart from an old number the filesystem handed out again.
 */
export type InodeSet = Set<string>;

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The message files (cur/ and new/ of INBOX and of every `.Folder`) of Maildir++ roots. */
export function messageInodes(roots: string[]): InodeSet {
  const out: InodeSet = new Set();
  for (const root of roots) {
    const folders = [root, ...entries(root).filter((n) => n.startsWith('.') && n !== '.' && n !== '..').map((n) => join(root, n))];
    for (const folder of folders) {
      for (const sub of ['cur', 'new']) {
        const dir = join(folder, sub);
        for (const name of entries(dir)) {
          const st = statSync(join(dir, name), { bigint: true, throwIfNoEntry: false });
          if (st?.isFile()) out.add(`${st.dev}:${st.ino}:${st.birthtimeNs}`);
        }
      }
    }
  }
  return out;
}

export function countNew(before: InodeSet, after: InodeSet): number {
  let n = 0;
  for (const id of after) if (!before.has(id)) n++;
  return n;
}
