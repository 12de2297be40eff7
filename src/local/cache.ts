// The per-Maildir scan cache under $XDG_CACHE_HOME/mdsync: each folder's last settled scan.

import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { replaceFileBytes } from './fileio.js';
import { removeLeftovers } from './leftovers.js';
import type { CachedFolder } from './folder.js';

const VERSION = 3;

export interface ScanCache {
  version: number;
  root: string;
  folders: Record<string, CachedFolder>;
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
  await removeLeftovers(cacheDir).catch(() => undefined);
  try {
    const value = decode(await readFile(cachePath(cacheDir, root))) as ScanCache;
    if (value?.version !== VERSION || value.root !== root || typeof value.folders !== 'object') return empty;
    return value;
  } catch {
    // Missing (first run) or undecodable: either way the next scan rebuilds it.
    return empty;
  }
}

export async function saveCache(cacheDir: string, cache: ScanCache): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  await replaceFileBytes(cachePath(cacheDir, cache.root), encode(cache, { ignoreUndefined: true }), false);
}
