// A Maildir root before it is used: opened (its layout, owner and identity), a missing one created
// (its last component only, unless asked), and whether it may be written.

import { constants } from 'node:fs';
import { access, chown, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';
import type { Layout } from '../model.js';
import { detectLayout, isMaildir } from './layout.js';
import { rootIdentity } from './root-identity.js';
import { fromErrno, makeDirs, type Owner } from './disk.js';

export interface OpenedRoot {
  root: string;
  layout: Layout;
  /** Stable identity of the root (root-identity.ts). */
  id: string;
  /** Whom files made here belong to, when running as root for a user. */
  owner?: Owner;
}

/**
 * Opens a root: `create` makes a missing one (a backup's destination), `readOnly` requires a
 * Maildir already there (an empty or foreign directory is never an empty source).
 */
export async function openRoot(rootPath: string, options: { layout?: Layout; defaultLayout?: Layout; create?: boolean; mkpath?: boolean; readOnly?: boolean }): Promise<OpenedRoot> {
  const root = resolve(rootPath);
  let st;
  try {
    st = await stat(root);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw new MdsyncError('ROOT_UNREADABLE', `cannot read Maildir ${root}: ${(err as Error).message}`);
    if (!options.create) throw new MdsyncError('ROOT_MISSING', `Maildir ${root} does not exist (is it mounted?)`);
    // A new Maildir belongs to whoever owns the directory it is made in (run as root for a user).
    const parent = await stat(dirname(root)).catch(() => undefined);
    const owner = parent && process.getuid?.() === 0 && parent.uid !== 0 ? { uid: parent.uid, gid: parent.gid } : undefined;
    await makeRoot(root, options.mkpath ?? false, owner);
    st = await stat(root);
  }
  if (!st.isDirectory()) throw new MdsyncError('ROOT_UNREADABLE', `${root} is not a directory`);
  let layout: Layout;
  try {
    layout = options.layout ?? (await detectLayout(root)) ?? options.defaultLayout ?? 'maildir++';
    if (options.readOnly && !(await isMaildir(root))) {
      throw new MdsyncError('NOT_A_MAILDIR', `${root} is not a Maildir (no cur/ and no folder in it): is it mounted?`);
    }
  } catch (err) {
    if (err instanceof MdsyncError) throw err;
    throw new MdsyncError('ROOT_UNREADABLE', `cannot read Maildir ${root}: ${(err as Error).message}`);
  }
  const owner = process.getuid?.() === 0 && st.uid !== 0 ? { uid: st.uid, gid: st.gid } : undefined;
  const id = await rootIdentity(root).catch((e: unknown) => { throw fromErrno(e, 'reading', root); });
  return { root, layout, id, ...(owner ? { owner } : {}) };
}

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
