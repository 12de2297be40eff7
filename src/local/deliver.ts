// Delivering into a folder: tmp/ → fsync → link() under the final name (never overwriting), or
// straight under the name in a staged folder no reader sees; many small bodies in one batch on the
// I/O threads, the rest one by one; and files of another local Maildir copied file to file.

import { hostname } from 'node:os';
import { BODY_CHUNK, bodySize, isStream } from '../body.js';
import type { CopyRequest, Delivery, FileDelivered, FileDelivery, Placed, TwinFound } from '../model.js';
import { hashFile, sha256, writeDurable } from './fileio.js';
import type { MaildirFolder } from './folder.js';
import { keywordLetters, learnKeywords } from './folder-keywords.js';
import { formatName, freshGuid } from './name.js';
import type { FolderScan } from './scan.js';
import { tempTag } from './leftovers.js';
import { ioPool } from './io/lazy-pool.js';
import { hashMessage, readMessage } from './read.js';
import { fromErrno, linkNew, makeDirs, removeQuietly } from './disk.js';

/**
 * Places messages: tmp/ + fsync + mtime, then link() into new/ or cur/. link(), not rename():
 * link fails if the name exists where rename would overwrite (Maildir spec). A name already
 * holding other bytes gets a fresh name; the same bytes are simply "already there".
 */
export async function deliverMessages(folder: MaildirFolder, items: Delivery[]): Promise<Placed[]> {
  const scan = await folder.ensureScan();
  if (scan.damaged) {
    // Its messages come back into a whole folder again.
    for (const sub of ['cur', 'new', 'tmp'] as const) {
      await makeDirs(folder.subdirs[sub], folder.owner).catch((err) => { throw fromErrno(err, 'creating', folder.subdirs[sub]); });
      folder.touchedDirs.add(folder.subdirs[sub]);
    }
    folder.touchedDirs.add(folder.home);
    scan.damaged = undefined;
  }
  await learnKeywords(folder, [...new Set(items.flatMap((item) => item.keywords))]);
  const letters = items.map((item) => keywordLetters(folder, item.keywords, item.guid));
  const quick = await placeMany(folder, items, letters.map((l) => l.letters));
  const placed = await Promise.all(items.map(async (item, i) => {
    const got = letters[i] as { letters: string; dropped: string[] };
    const p = quick[i] ?? await placeOne(folder, item, got.letters);
    return got.dropped.length > 0 && !p.existed ? { ...p, dropped: got.dropped } : p;
  }));
  folder.markTouched();
  return placed;
}

/**
 * Copies messages from files of another local Maildir, file to file in a worker thread (the
 * bytes never reach this thread), under names this folder does not have yet; from another
 * folder of this Maildir (`sameMaildir`) as hard links where the filesystem allows. Anything
 * else is left undefined, for the caller to read and deliver the usual way.
 */
export async function deliverFileCopies(folder: MaildirFolder, items: FileDelivery[], sameMaildir: boolean, twins: boolean): Promise<(FileDelivered | TwinFound | undefined)[]> {
  const scan = await folder.ensureScan();
  const out: (FileDelivered | TwinFound | undefined)[] = items.map(() => undefined);
  if (scan.damaged) return out;
  await learnKeywords(folder, [...new Set(items.flatMap((item) => item.keywords))]);
  const direct = folder.staged;
  const batch: { index: number; name: string; letters: string; dropped: string[]; tmp: string; target: string; source: string; hash?: string }[] = [];
  items.forEach((item, i) => {
    if (scan.files.has(item.guid)) return;
    const got = keywordLetters(folder, item.keywords, item.guid);
    const name = formatName({ guid: item.guid, flags: item.flags, keywordLetters: got.letters, infoRest: item.infoRest }, folder.separator, item.location);
    batch.push({ index: i, name, letters: got.letters, dropped: got.dropped, tmp: direct ? '' : tmpName(folder), target: folder.pathOf(item.location, name), source: item.path, ...(item.hash ? { hash: item.hash } : {}) });
  });
  if (batch.length === 0) return out;
  folder.touchedDirs.add(folder.subdirs.tmp);
  const outcomes = await (await ioPool()).run({
    kind: 'copy',
    items: batch.map((b) => ({ source: b.source, tmp: b.tmp, target: b.target, ...(b.hash ? { hash: b.hash } : {}) })),
    inlineMax: BODY_CHUNK,
    ...(folder.owner ? { owner: folder.owner } : {}),
    link: sameMaildir,
    direct,
    twins,
  }, folder.dir);
  batch.forEach((b, j) => {
    const got = outcomes[j];
    const item = items[b.index] as FileDelivery;
    if (got?.kind === 'twin') out[b.index] = { twin: { inode: got.inode, hash: got.hash, mtime: got.mtime } };
    if (got?.kind !== 'ok') return;
    folder.placed(b.name, item.guid, item, b.letters, got.hash);
    const placed: FileDelivered = { wanted: item.guid, guid: item.guid, hash: got.hash, existed: false, size: got.size };
    if (b.dropped.length > 0) placed.dropped = b.dropped;
    out[b.index] = placed;
  });
  folder.markTouched();
  return out;
}

/**
 * The common case in one batch (io/batch.ts): whole bodies under names this folder does not
 * have. What the batch hands back (a name taken meanwhile, an error) is left undefined here
 * for `place`, which handles every case one by one.
 */
async function placeMany(folder: MaildirFolder, items: Delivery[], letters: string[]): Promise<(Placed | undefined)[]> {
  const scan = folder.index.scan as FolderScan;
  const out: (Placed | undefined)[] = items.map(() => undefined);
  const batch: { index: number; name: string; tmp: string; target: string; data: Uint8Array }[] = [];
  const direct = folder.staged;
  items.forEach((item, i) => {
    if (isStream(item.data) || scan.files.has(item.guid)) return;
    const name = formatName({ guid: item.guid, flags: item.flags, keywordLetters: letters[i] as string, infoRest: item.infoRest }, folder.separator, item.location);
    batch.push({ index: i, name, tmp: direct ? '' : tmpName(folder), target: folder.pathOf(item.location, name), data: item.data });
  });
  if (batch.length === 0) return out;
  folder.touchedDirs.add(folder.subdirs.tmp);
  const outcomes = await (await ioPool()).run({
    kind: 'write',
    items: batch.map((b) => ({ tmp: b.tmp, target: b.target, data: b.data, mtimeMs: (items[b.index] as Delivery).mtime })),
    ...(folder.owner ? { owner: folder.owner } : {}),
    direct,
  }, folder.dir);
  batch.forEach((b, j) => {
    const got = outcomes[j];
    const item = items[b.index] as Delivery;
    if (got?.kind !== 'ok') return;
    folder.placed(b.name, item.guid, item, letters[b.index] as string, got.hash);
    out[b.index] = { wanted: item.guid, guid: item.guid, hash: got.hash, existed: false };
  });
  return out;
}

async function placeOne(folder: MaildirFolder, item: Delivery, letters: string): Promise<Placed> {
  const scan = folder.index.scan as FolderScan;
  let guid = item.guid;
  // A whole body is hashed first: when its name already holds these bytes nothing is written.
  const early = isStream(item.data) ? undefined : sha256(item.data);
  if (early !== undefined && scan.files.has(guid) && (await hashMessage(folder, guid)) === early) {
    return { wanted: item.guid, guid, hash: early, existed: true };
  }
  const tmp = tmpName(folder);
  folder.touchedDirs.add(folder.subdirs.tmp);
  try {
    const hash = await writeDurable(tmp, item.data, item.mtime, folder.owner);
    if (early === undefined && scan.files.has(guid)) {
      if ((await hashMessage(folder, guid)) === hash) return { wanted: item.guid, guid, hash, existed: true };
    }
    if (scan.files.has(guid)) guid = freshGuid(bodySize(item.data), hostname());
    for (;;) {
      const name = formatName({ guid, flags: item.flags, keywordLetters: letters, infoRest: item.infoRest }, folder.separator, item.location);
      if (await linkNew(tmp, folder.pathOf(item.location, name), 'delivering to')) {
        folder.placed(name, guid, item, letters, hash);
        return { wanted: item.guid, guid, hash, existed: false };
      }
      // Another process delivered this exact name since our scan.
      folder.events.raced();
      if ((await hashFile(folder.pathOf(item.location, name))) === hash) return { wanted: item.guid, guid, hash, existed: true };
      guid = freshGuid(bodySize(item.data), hostname());
    }
  } finally {
    await removeQuietly(tmp);
  }
}

/** The target half of a move: this folder gets a copy of a message another folder of this Maildir holds. */
export async function copyFrom(folder: MaildirFolder, source: MaildirFolder, items: CopyRequest[]): Promise<Placed[]> {
  const out: Placed[] = [];
  const deliveries: Delivery[] = [];
  const order: number[] = [];
  for (const [i, item] of items.entries()) {
    const got = await readMessage(source, item.fromGuid);
    if (got.vanished || !got.data) {
      out[i] = { wanted: item.guid, guid: item.guid, hash: '', existed: false, vanished: true };
      continue;
    }
    order.push(i);
    deliveries.push({ guid: item.guid, data: got.data, mtime: item.mtime ?? got.mtime ?? Date.now(), flags: item.flags, keywords: item.keywords, location: item.location, infoRest: item.infoRest });
  }
  const placed = await folder.deliver(deliveries);
  placed.forEach((p, j) => { out[order[j] as number] = p; });
  return out;
}

let tmpCounter = 0;

/** A fresh name in the folder's tmp/. */
function tmpName(folder: MaildirFolder): string {
  tmpCounter += 1;
  return folder.pathOf('tmp', `${Date.now()}.Q${tmpCounter}.${tempTag()}`);
}
