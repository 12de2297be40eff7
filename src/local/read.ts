// Reading a folder's messages and hashing them: many files per batch on the I/O threads, and a
// file renamed or removed under us (ENOENT) followed through a listing taken again.

import { BODY_CHUNK } from '../body.js';
import { MdsyncError } from '../errors.js';
import type { ReadResult } from '../model.js';
import { hashFile, readBody } from './fileio.js';
import type { MaildirFolder } from './folder.js';
import { ioPool } from './io/lazy-pool.js';

/** Files per hashing job. */
const HASH_BATCH = 256;

/** A message file something else replaced (a FIFO…): warned about and taken as vanished (null); any other error thrown. */
function notAFile(folder: MaildirFolder, err: unknown): null {
  if (!(err instanceof MdsyncError) || err.code !== 'NOT_A_FILE') throw err;
  folder.events.raced();
  folder.events.warn(err.message);
  return null;
}

export async function readMessage(folder: MaildirFolder, guid: string): Promise<ReadResult> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const file = await folder.locate(guid, attempt > 0);
    if (!file) return { guid, vanished: true };
    const got = await readBody(folder.path(file), BODY_CHUNK).catch((err) => notAFile(folder, err));
    if (got === null) return { guid, vanished: true };
    if (!got) continue;
    return { guid, data: got.data, mtime: got.mtime };
  }
  return { guid, vanished: true };
}

/**
 * Reads messages in order, many files per batch (io/batch.ts), yielded as batches; a file the
 * batch could not read whole (vanished, renamed, large) is read by readMessage, which follows it or
 * streams it, and comes alone: only when the reader gets to it (a stream holds a file open).
 */
export async function* readMessages(folder: MaildirFolder, guids: string[]): AsyncIterable<ReadResult[]> {
  const scan = await folder.ensureScan();
  for (const part of readBatches(guids, (g) => scan.files.get(g)?.parsed.size)) {
    const files = part.map((g) => scan.files.get(g));
    const paths = files.flatMap((f) => (f ? [folder.path(f)] : []));
    const outcomes = await (await ioPool()).run({ kind: 'read', paths, inlineMax: BODY_CHUNK });
    let next = 0;
    let whole: ReadResult[] = [];
    for (const [i, guid] of part.entries()) {
      const got = files[i] ? outcomes[next++] : undefined;
      if (got?.kind === 'ok') {
        whole.push(got.inode === undefined ? { guid, data: got.data, mtime: got.mtime } : { guid, data: got.data, mtime: got.mtime, inode: got.inode, hash: got.hash as string });
        continue;
      }
      if (whole.length > 0) yield whole;
      whole = [];
      yield [await readMessage(folder, guid)];
    }
    if (whole.length > 0) yield whole;
  }
}

export async function hashMessage(folder: MaildirFolder, guid: string): Promise<string | undefined> {
  const known = folder.index.knownHash(guid);
  if (known) return known;
  for (let attempt = 0; attempt < 3; attempt++) {
    const file = await folder.locate(guid, attempt > 0);
    if (!file) return undefined;
    const hash = await hashFile(folder.path(file)).catch((err) => notAFile(folder, err));
    if (hash === null) return undefined;
    if (hash === undefined) continue;
    folder.index.hashes.set(guid, hash);
    return hash;
  }
  return undefined;
}

/** Hashes of many messages, files read in batches on the I/O threads; undefined for one that vanished. */
export async function hashMessages(folder: MaildirFolder, guids: string[]): Promise<(string | undefined)[]> {
  const scan = await folder.ensureScan();
  const out = guids.map((g) => folder.index.knownHash(g));
  const todo = guids.flatMap((g, i) => {
    const file = out[i] === undefined ? scan.files.get(g) : undefined;
    return file ? [{ i, path: folder.path(file) }] : [];
  });
  const parts: (typeof todo)[] = [];
  for (let k = 0; k < todo.length; k += HASH_BATCH) parts.push(todo.slice(k, k + HASH_BATCH));
  await Promise.all(parts.map(async (part) => {
    const outcomes = await (await ioPool()).run({ kind: 'hash', paths: part.map((t) => t.path) });
    outcomes.forEach((o, j) => {
      const t = part[j];
      if (!t || o.kind !== 'ok') return;
      out[t.i] = o.hash;
      folder.index.hashes.set(guids[t.i] as string, o.hash);
    });
  }));
  // Renamed or gone meanwhile: followed one by one.
  for (const [i, g] of guids.entries()) if (out[i] === undefined) out[i] = await hashMessage(folder, g);
  return out;
}

/** Where the messages' files are now, by the scan (null for one it does not know). */
export async function locateMessages(folder: MaildirFolder, guids: string[]): Promise<(string | null)[]> {
  const scan = await folder.ensureScan();
  return guids.map((g) => {
    const file = scan.files.get(g);
    return file ? folder.path(file) : null;
  });
}

/** Batches for readMessages: at most 64 files and about 4 MB each (by the sizes names give). */
function readBatches(guids: string[], sizeOf: (guid: string) => number | undefined): string[][] {
  const out: string[][] = [];
  let part: string[] = [];
  let bytes = 0;
  for (const g of guids) {
    const size = sizeOf(g) ?? 64 * 1024;
    if (part.length > 0 && (part.length >= 64 || bytes + size > 4 * 1024 * 1024)) {
      out.push(part);
      part = [];
      bytes = 0;
    }
    part.push(g);
    bytes += size;
  }
  if (part.length > 0) out.push(part);
  return out;
}
