// Folders on disk ⇄ canonical names ("INBOX", "A/B"): Maildir++ (`.A.B`) and fs (`A/B`) layouts.

import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';
import type { Layout } from '../model.js';
import { decodeMutf7, encodeMutf7 } from './mutf7.js';

export const INBOX = 'INBOX';
const RESERVED = new Set(['cur', 'new', 'tmp']);

/** Checks a canonical folder name as it may come from anywhere (the wire included). */
export function validateFolderName(name: string): void {
  const bad = (why: string): never => {
    throw new MdsyncError('BAD_FOLDER', `invalid folder name ${JSON.stringify(name)}: ${why}`);
  };
  if (typeof name !== 'string' || name.length === 0) bad('empty');
  if (name.length > 1024) bad('too long');
  if (name.startsWith('/') || name.endsWith('/')) bad('leading or trailing "/"');
  if (/[\x00-\x1f\x7f]/.test(name)) bad('control character');
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..') bad('empty, "." or ".." component');
  }
}

/** Relative directory of a folder under the root, e.g. `.A.B` or `A/B`; "" for INBOX. */
export function folderToDir(name: string, layout: Layout): string {
  validateFolderName(name);
  if (name === INBOX) return '';
  const parts = name.split('/').map(encodeMutf7);
  if (layout === 'maildir++') {
    for (const part of parts) {
      if (part.includes('.')) {
        throw new MdsyncError('BAD_FOLDER', `folder ${JSON.stringify(name)} cannot exist in a Maildir++ tree: "." inside a name`);
      }
    }
    return '.' + parts.join('.');
  }
  for (const part of parts) {
    if (RESERVED.has(part) || part.startsWith('.')) {
      throw new MdsyncError('BAD_FOLDER', `folder ${JSON.stringify(name)} cannot exist in an fs-layout tree: "${part}" is reserved`);
    }
  }
  return parts.join('/');
}

/** Canonical name of a Maildir++ directory entry (`.A.B`), or undefined when it is not a folder. */
export function dirToFolderMaildirPP(entry: string): string {
  const parts = entry.slice(1).split('.');
  const name = parts.map(decodeMutf7).join('/');
  validateFolderName(name);
  return name;
}

async function hasCur(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, 'cur'))).isDirectory();
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
    // A folder we may not look into is still a folder: listed, it is reported as unreadable.
    if (isErrno(err, 'EACCES')) return true;
    throw err;
  }
}

/** The root holds a Maildir: an INBOX (cur/) or a folder of either layout; not an empty or foreign directory. */
export async function isMaildir(root: string): Promise<boolean> {
  return (await hasCur(root)) || (await detectLayout(root)) !== undefined;
}

/** A directory entry that is a directory, or a symbolic link to one (refused later if it leads outside the root). */
async function isDirEntry(parent: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  return stat(join(parent, e.name)).then((s) => s.isDirectory(), () => false);
}

export interface FolderDir {
  name: string;
  dir: string;
}

/** Lists the folders of a Maildir root. Names that cannot be decoded are reported, not fatal. */
export async function listFolderDirs(root: string, layout: Layout, warn: (msg: string) => void): Promise<FolderDir[]> {
  const found: FolderDir[] = [{ name: INBOX, dir: '' }];
  if (layout === 'maildir++') {
    const entries = await readdir(root, { withFileTypes: true });
    for (const e of entries) {
      if (!e.name.startsWith('.') || e.name === '.' || e.name === '..' || !(await isDirEntry(root, e))) continue;
      try {
        found.push({ name: dirToFolderMaildirPP(e.name), dir: e.name });
      } catch (err) {
        warn(`skipping folder directory ${e.name}: ${(err as Error).message}`);
      }
    }
  } else {
    const walk = async (rel: string, names: string[]): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(join(root, rel), { withFileTypes: true });
      } catch (err) {
        // The folder itself is listed (and reported unreadable); what lies below it is unknown.
        if (rel && isErrno(err, 'EACCES')) return;
        throw err;
      }
      for (const e of entries) {
        if (RESERVED.has(e.name) || e.name.startsWith('.') || !(await isDirEntry(join(root, rel), e))) continue;
        const childRel = rel ? `${rel}/${e.name}` : e.name;
        let decoded: string;
        try {
          decoded = decodeMutf7(e.name);
        } catch (err) {
          warn(`skipping folder directory ${childRel}: ${(err as Error).message}`);
          continue;
        }
        const childNames = [...names, decoded];
        if (await hasCur(join(root, childRel))) found.push({ name: childNames.join('/'), dir: childRel });
        // Never into a link: a link to a parent would loop.
        if (e.isDirectory()) await walk(childRel, childNames);
      }
    };
    await walk('', []);
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Detects the layout of an existing root: Maildir++ when it has `.X` folders, fs when it has plain ones. */
export async function detectLayout(root: string): Promise<Layout | undefined> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  let fs = false;
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    if (e.name.startsWith('.') && e.name !== '.' && e.name !== '..') {
      if (await hasCur(join(root, e.name))) return 'maildir++';
    } else if (!RESERVED.has(e.name) && (await hasCur(join(root, e.name)))) {
      fs = true;
    }
  }
  return fs ? 'fs' : undefined;
}
