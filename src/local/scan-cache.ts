// The per-Maildir scan cache under $XDG_CACHE_HOME/mdsync: each folder's last settled scan.
// The file is a length-prefixed JSON header (per folder: stamp, digest, counts, and where its file
// list lies) followed by the file lists, each read only when that folder must be rebuilt.

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readAtSync } from './fileio.js';
import { removeLeftoversOnce } from './leftovers.js';
import { FileTable } from './file-table.js';
import type { Separator } from './name.js';
import type { FolderStamp } from './scan.js';
import { replaceFile } from './disk.js';

// The header is JSON: parsed natively, where a decoder module would cost a local run's start-up
// more than the parse. Version 9: listings skip names that do not round-trip (unsyncableName), which
// older records may hold.
const VERSION = 9;
const HEADER_MAX = 64 * 1024 * 1024;

export interface ScanCache {
  version: number;
  root: string;
  folders: Record<string, CachedFolder>;
  /** Closes the file the folders' lists are read from. */
  release?: () => void;
}

interface HeaderFolder extends Omit<CachedFolder, 'files'> {
  /** Where the folder's file list starts, counted from the end of the header. */
  at: number;
  bytes: number;
}

interface Header {
  version: number;
  root: string;
  folders: Record<string, HeaderFolder>;
}

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mdsync');
}

function cachePath(cacheDir: string, root: string): string {
  return join(cacheDir, createHash('sha256').update(root).digest('hex').slice(0, 24) + '.scan');
}

/** A missing, foreign or damaged cache is simply empty: it only saves work, it never decides. */
export async function loadCache(cacheDir: string, root: string): Promise<ScanCache> {
  const empty: ScanCache = { version: VERSION, root, folders: {} };
  await removeLeftoversOnce(cacheDir);
  let fd: number;
  try {
    // As a control file is opened: a FIFO put in its place must not block the run.
    fd = openSync(cachePath(cacheDir, root), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return empty;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    const size = st.size;
    const length = size >= 4 ? readAtSync(fd, 0, 4).readUInt32BE(0) : 0;
    if (length === 0 || length > HEADER_MAX || 4 + length > size) throw new Error('no header');
    const header = JSON.parse(readAtSync(fd, 4, length).toString('utf8')) as Header;
    if (header?.version !== VERSION || header.root !== root || typeof header.folders !== 'object') throw new Error('foreign');
    const cache: ScanCache = { version: VERSION, root, folders: {}, release: () => closeSync(fd) };
    for (const [name, h] of Object.entries(header.folders)) {
      // A record not as written is left out: that folder is listed afresh.
      if (!isHeaderFolder(h)) continue;
      const { at, bytes, ...rest } = h;
      // Past the end (a damaged file) reads short, fails to decode, and the folder is rescanned.
      cache.folders[name] = { ...rest, files: () => readAtSync(fd, 4 + length + at, bytes) };
    }
    return cache;
  } catch {
    // Undecodable or someone else's: the next scan rebuilds it.
    closeSync(fd);
    return empty;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function isHeaderFolder(h: unknown): h is HeaderFolder {
  if (typeof h !== 'object' || h === null) return false;
  const r = h as Record<string, unknown>;
  return Array.isArray(r.stamp) && r.stamp.length === 6 && r.stamp.every(isString) && typeof r.settled === 'boolean' &&
    isString(r.digest) && isCount(r.count) && isString(r.uids) && isString(r.keywords) && isCount(r.at) && isCount(r.bytes) &&
    (r.uidValidity === undefined || isCount(r.uidValidity));
}

export async function saveCache(cacheDir: string, cache: ScanCache): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const lists: Uint8Array[] = [];
  const folders: Record<string, HeaderFolder> = {};
  let at = 0;
  for (const [name, record] of Object.entries(cache.folders)) {
    const { files, ...rest } = record;
    const list = typeof files === 'function' ? files() : files;
    folders[name] = { ...rest, at, bytes: list.length };
    lists.push(list);
    at += list.length;
  }
  const header = Buffer.from(JSON.stringify({ version: VERSION, root: cache.root, folders } satisfies Header), 'utf8');
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(header.length, 0);
  await replaceFile(cachePath(cacheDir, cache.root), [prefix, header, ...lists], { durable: false });
}

/** What the scan cache keeps of a folder between runs. */
export interface CachedFolder {
  stamp: FolderStamp;
  settled: boolean;
  digest: string;
  count: number;
  /** digestUids of the folder's dovecot-uidlist. */
  uids: string;
  uidValidity?: number;
  /** The folder's dovecot-keywords as the digest saw it: the digest follows changes only under the same map. */
  keywords: string;
  /** The folder's files (FileTable.toRecord), or where to read them: only when the folder's files are needed. */
  files: Uint8Array | (() => Uint8Array);
}

/** The files of a cache record (FileTable.toRecord); undefined when the record is damaged (the folder is then rescanned). */
export function cachedFiles(record: CachedFolder, separator: Separator): FileTable | undefined {
  try {
    return FileTable.fromRecord(typeof record.files === 'function' ? record.files() : record.files, separator);
  } catch {
    return undefined;
  }
}
