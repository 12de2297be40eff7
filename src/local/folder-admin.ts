// Folders made and removed: a folder the run fills built aside (in the root's tmp/) and published
// whole, an empty one's new/ and cur/ built aside, and a folder deleted only while it holds nothing.

import { chown, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isErrno } from '../errors.js';
import type { Layout } from '../model.js';
import type { Confinement } from './confine.js';
import { DOVECOT_INDEX_FILES } from './dovecot-index.js';
import type { MaildirFolder } from './folder.js';
import { holdsNoMessage } from './folder-dirs.js';
import { INBOX, folderToDir, validateFolderName } from './layout.js';
import { tempTag } from './leftovers.js';
import type { FolderRegistry } from './registry.js';
import { crashPoint, fromErrno, fsyncDir, makeDirs, type Owner } from './disk.js';

let stagingCounter = 0;

export interface Folders {
  root: string;
  layout: Layout;
  owner?: Owner;
  registry: FolderRegistry;
  confine: Confinement;
}

/**
 * Creates a folder; `staged`: one the run is about to fill, built aside in the root's tmp/ and
 * moved into place whole when published (Maildir++: a folder there is one directory), or, where
 * it cannot be (INBOX, the fs layout, a folder there already), created and its new/ and cur/
 * built aside (stageContents).
 */
export async function createFolder(f: Folders, name: string, options: { staged?: boolean }): Promise<void> {
  validateFolderName(name);
  const rel = folderToDir(name, f.layout);
  const dir = join(f.root, rel);
  await f.confine.newFolder(dir);
  // newFolder checked the root and its tmp/, where the folder is built, lie inside the root.
  const stage = options.staged === true && rel !== '' && f.layout === 'maildir++' && !(await stat(dir).then(() => true, () => false));
  const staging = stage ? stagingDir(f.root) : undefined;
  const home = staging ?? dir;
  try {
    crashPoint();
    for (const sub of ['cur', 'new', 'tmp']) await makeDirs(join(home, sub), f.owner);
    if (rel !== '' && f.layout === 'maildir++') {
      await writeFile(join(home, 'maildirfolder'), '', { flag: 'a' });
      if (f.owner) await chown(join(home, 'maildirfolder'), f.owner.uid, f.owner.gid);
    }
  } catch (err) {
    throw fromErrno(err, 'creating folder', home);
  }
  f.registry.forget(name);
  const folder = f.registry.at(name, rel, staging);
  folder.touched = true;
  for (const sub of ['cur', 'new', 'tmp']) folder.touchedDirs.add(join(home, sub));
  folder.touchedDirs.add(home);
  folder.touchedDirs.add(dirname(home));
  folder.touchedDirs.add(f.root);
  // A folder that cannot be built aside whole (INBOX, the fs layout) has its new/ and cur/ built aside.
  if (options.staged === true && !stage) await stageContents(f, folder);
}

/** An empty folder's new/ and cur/ built in the root's tmp/, put in place of the empty ones when published; false when it cannot. */
export async function stageContents(f: Folders, folder: MaildirFolder): Promise<boolean> {
  // The root's tmp/, where they are built, must lie inside the root.
  await f.confine.newFolder(join(f.root, 'tmp', 'staging'));
  return folder.stageContents(stagingDir(f.root));
}

/** A new directory in the root's tmp/, named as mdsync's temp files are (a killed run's is removed by the next). */
function stagingDir(root: string): string {
  return join(root, 'tmp', `${Date.now()}.F${++stagingCounter}.${tempTag()}`);
}

/**
 * Removes a folder that holds no message, with its control and index files (`removed` told once
 * they are gone); kept (`not-empty`) when messages arrived in it meanwhile. A folder staged whole
 * is discarded. INBOX is never removed.
 */
export async function deleteFolder(f: Folders, name: string, removed: () => void): Promise<'deleted' | 'inbox' | 'not-empty'> {
  if (name === INBOX) return 'inbox';
  const folder = await f.registry.open(name);
  if (folder.stagedWhole) {
    await folder.discard();
    f.registry.forget(name);
    return 'deleted';
  }
  await folder.discard();
  if (!(await holdsNoMessage(folder.subdirs))) return 'not-empty';
  try {
    crashPoint();
    for (const sub of ['cur', 'new', 'tmp']) await rm(join(folder.dir, sub), { recursive: true, force: true });
    for (const file of ['maildirfolder', 'dovecot-uidlist', 'dovecot-keywords', ...DOVECOT_INDEX_FILES, 'dovecot-uidlist.lock']) {
      await rm(join(folder.dir, file), { force: true });
    }
    await rmdir(folder.dir).catch((err) => {
      // fs layout: a parent keeps its child folders.
      if (!isErrno(err, 'ENOTEMPTY', 'EEXIST')) throw err;
    });
  } catch (err) {
    throw fromErrno(err, 'deleting folder', folder.dir);
  }
  f.registry.forget(name);
  removed();
  await fsyncDir(join(folder.dir, '..'));
  return 'deleted';
}
