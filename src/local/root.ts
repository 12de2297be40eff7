// A Maildir root before it is used: whether it may be written.

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { fromErrno } from '../errors.js';

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
