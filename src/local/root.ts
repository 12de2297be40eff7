// A Maildir root before it is used: a missing one created (its last component only, unless asked), and whether it may be written.

import { constants } from 'node:fs';
import { access, chown, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MdsyncError, fromErrno, isErrno } from '../errors.js';
import { makeDirs, type Owner } from './fileio.js';

/**
 * Creates a missing root, as rsync does: only its last component, so a typo in a parent never
 * becomes a new tree; a missing parent is an error naming it, unless `withParents` (--mkpath).
 */
export async function makeRoot(root: string, withParents: boolean, owner?: Owner): Promise<void> {
  try {
    if (withParents) {
      await makeDirs(root, owner);
      return;
    }
    await mkdir(root, { mode: 0o700 });
  } catch (err) {
    // Made meanwhile by another program: the caller looks at what is there now.
    if (isErrno(err, 'EEXIST')) return;
    if (isErrno(err, 'ENOENT')) {
      throw new MdsyncError('ROOT_MISSING', `cannot create Maildir ${root}: ${dirname(root)} does not exist (--mkpath creates it too)`);
    }
    throw fromErrno(err, 'creating', root);
  }
  if (owner) await chown(root, owner.uid, owner.gid).catch((err) => { throw fromErrno(err, 'creating', root); });
}

// In fromErrno's words. EPERM: an immutable directory (chattr +i), whatever the modes say.
const DENIED: Record<string, { code: 'READ_ONLY' | 'PERMISSION'; why: string }> = {
  EROFS: { code: 'READ_ONLY', why: 'read-only filesystem' },
  EACCES: { code: 'PERMISSION', why: 'permission denied' },
  EPERM: { code: 'PERMISSION', why: 'permission denied' },
};

/** Why this process may not create files in the root (its lock among them); undefined when it may. */
export async function writeDenied(root: string): Promise<{ code: 'READ_ONLY' | 'PERMISSION'; why: string } | undefined> {
  try {
    await access(root, constants.W_OK);
    return undefined;
  } catch (err) {
    const denied = DENIED[(err as NodeJS.ErrnoException).code ?? ''];
    if (denied) return denied;
    throw fromErrno(err, 'opening', root);
  }
}
