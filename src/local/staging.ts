// Folders built aside and published whole. A folder new to the Maildir is built in the root's
// tmp/ and moved into place in one rename(); an empty folder's new/ and cur/ are built aside and
// put in place of its empty ones. Where another program took the name meanwhile, the staged files
// are linked in beside what it put there: nothing is overwritten.

import { chmod, chown, readdir, rm, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';
import type { Location } from '../model.js';
import { hashFile } from './fileio.js';
import type { MaildirFolder } from './folder.js';
import { holdsNoMessage, subdirsOf } from './folder-dirs.js';
import type { KeywordMap } from './keywords.js';
import { LETTERS, readKeywords } from './keyword-letters.js';
import { guidOfName } from './name.js';
import type { FolderScan } from './scan.js';
import { lockUidlist } from './uidlist-write.js';
import { fromErrno, fsyncDir, linkNew, makeDirs, moveDir, replaceFile } from './disk.js';

/** `confine` refuses a directory leading out of the Maildir: the folder that took the name is written only if it passes. */
export async function publishNow(folder: MaildirFolder, confine: (dir: string) => Promise<void>): Promise<void> {
  if (folder.staging === undefined) return;
  const { dir: staging, whole } = folder.staging;
  await Promise.allSettled([...folder.deliveries]);
  await folder.keywordSaves;
  await Promise.all([folder.subdirs.cur, folder.subdirs.new, staging].map(fsyncDir));
  if (whole) {
    if (!(await moveDir(staging, folder.dir, 'publishing folder'))) {
      folder.events.raced();
      await confine(folder.dir);
      await mergeInto(folder, staging, ['new', 'cur'], true);
    }
  } else {
    // rename() replaces a directory only while it is empty (else ENOTEMPTY): a message
    // delivered there meanwhile is never lost, and ours are then linked in beside it.
    const target = subdirsOf(folder.dir);
    const left: Location[] = [];
    for (const location of ['new', 'cur'] as const) {
      // In place now: a publication tried again after a failure (at unlock) finds it there.
      if (await moveDir(folder.subdirs[location], target[location], 'publishing folder')) folder.subdirs[location] = target[location];
      else left.push(location);
    }
    if (left.length > 0) {
      folder.events.raced();
      await confine(folder.dir);
      await mergeInto(folder, staging, left, false);
    } else {
      await rm(staging, { recursive: true, force: true }).catch((err) => { throw fromErrno(err, 'removing', staging); });
    }
  }
  folder.staging = undefined;
  folder.subdirs = subdirsOf(folder.dir);
  for (const d of folder.touchedDirs) if (d === staging || d.startsWith(`${staging}/`)) folder.touchedDirs.delete(d);
  for (const d of [dirname(staging), whole ? dirname(folder.dir) : folder.dir, folder.subdirs.cur, folder.subdirs.new]) folder.touchedDirs.add(d);
  folder.markTouched();
}

/**
 * Builds what the run places in this folder aside (in `staging`, in the root's tmp/) until
 * publish() puts its new/ and cur/ in place of the folder's: only while the folder holds no
 * message (its INBOX when the Maildir was just made, the Sent or Trash Dovecot created on a
 * client's login before a migration). False when it cannot: a message is there, or the folder
 * is damaged, staged or being written.
 */
export async function stageContents(folder: MaildirFolder, staging: string): Promise<boolean> {
  if (folder.staging !== undefined || folder.deliveries.size > 0) return false;
  const scan = await folder.ensureScan();
  if (scan.damaged !== undefined || scan.files.size > 0 || !(await holdsNoMessage(folder.subdirs))) return false;
  if (folder.staging !== undefined || folder.deliveries.size > 0) return false;
  const theirs = await Promise.all([folder.subdirs.new, folder.subdirs.cur].map((d) => stat(d).catch((err) => { throw fromErrno(err, 'checking', d); })));
  try {
    for (const sub of ['new', 'cur', 'tmp']) await makeDirs(join(staging, sub), folder.owner);
    // What replaces new/ and cur/ keeps their owner and mode (a shared folder's group, say).
    for (const [i, sub] of ['new', 'cur'].entries()) {
      const st = theirs[i] as Stats;
      const ours = await stat(join(staging, sub));
      if (ours.uid !== st.uid || ours.gid !== st.gid) await chown(join(staging, sub), st.uid, st.gid);
      await chmod(join(staging, sub), st.mode & 0o7777);
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (isErrno(err, 'EPERM')) return false;
    throw fromErrno(err, 'creating', staging);
  }
  folder.staging = { dir: staging, whole: false };
  folder.subdirs = subdirsOf(staging);
  for (const sub of ['new', 'cur', 'tmp'] as const) folder.touchedDirs.add(folder.subdirs[sub]);
  folder.touchedDirs.add(staging);
  folder.touchedDirs.add(dirname(staging));
  folder.markTouched();
  return true;
}

/**
 * A staged folder into the folder that took its name (or staged new/ or cur/ into those that
 * were written meanwhile: `locations`): each file linked under its own name (a name holding
 * other bytes stops it: nothing is overwritten); with `keywords` (staged whole) its
 * dovecot-keywords only where the folder's gives their letters the same names or has none.
 */
async function mergeInto(folder: MaildirFolder, staging: string, locations: Location[], keywords: boolean): Promise<void> {
  const scan = folder.index.scan as FolderScan;
  const taken = (why: string): MdsyncError =>
    new MdsyncError('CHANGED_DURING_RUN', `${folder.dir}: folder ${folder.name} was created by another program while it was being copied, ${why}; nothing was overwritten: run again`);
  const target = subdirsOf(folder.dir);
  for (const sub of Object.values(target)) await makeDirs(sub, folder.owner).catch((err) => { throw fromErrno(err, 'creating', sub); });
  const ours = folder.index.keywords as KeywordMap;
  if (keywords && ours.format() !== '') {
    const lock = await lockUidlist(folder.dir, `folder ${folder.name}`);
    try {
      const theirs = await readKeywords(folder.dir);
      if (theirs.format() === '') await replaceFile(join(folder.dir, 'dovecot-keywords'), ours.format(), folder.owner ? { owner: folder.owner } : {});
      else if (![...LETTERS].every((l) => ours.nameOf(l) === undefined || ours.nameOf(l) === theirs.nameOf(l))) throw taken('its dovecot-keywords naming other keywords');
    } finally {
      await lock.release();
    }
  }
  // A message already there under any name (other flags) is not linked in a second time.
  const there = new Map<string, string>();
  for (const location of ['cur', 'new'] as const) {
    const names = await readdir(target[location]).catch((err) => { throw fromErrno(err, 'listing', target[location]); });
    for (const name of names) there.set(guidOfName(name, folder.separator), `${target[location]}/${name}`);
  }
  for (const file of scan.files.values()) {
    if (!locations.includes(file.location)) continue;
    const from = folder.pathOf(file.location, file.name);
    const same = there.get(file.guid);
    if (same !== undefined) {
      if ((await hashFile(same)) !== (file.hash ?? (await hashFile(from)))) throw taken(`${same} holding another message`);
      continue;
    }
    const to = `${target[file.location]}/${file.name}`;
    if (!(await linkNew(from, to, 'delivering to')) && (await hashFile(to)) !== (file.hash ?? (await hashFile(from)))) throw taken(`${to} holding another message`);
  }
  await Promise.all([target.cur, target.new].map(fsyncDir));
  await rm(staging, { recursive: true, force: true }).catch((err) => { throw fromErrno(err, 'removing', staging); });
}

/** Removes a staged folder that will not be published (the run failed): none of its files were recorded. */
export async function discard(folder: MaildirFolder): Promise<void> {
  const staging = folder.staging?.dir;
  if (staging === undefined) return;
  folder.staging = undefined;
  folder.subdirs = subdirsOf(folder.dir);
  await rm(staging, { recursive: true, force: true }).catch(() => undefined);
}
