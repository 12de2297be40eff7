// Maildir++ details the corpus and its changes share: file names, folders, dovecot-keywords.

import { existsSync, readFileSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const INBOX = 'INBOX';

export interface BaseName {
  sec: number;
  usec: number;
  pid: number;
  q: number;
  host: string;
  size: number;
}

/** `<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>`, as Dovecot names the messages it delivers. */
export function baseName(b: BaseName): string {
  return `${b.sec}.M${b.usec}P${b.pid}Q${b.q}.${b.host},S=${b.size}`;
}

/** A cur/ name: base plus `:2,` and the flag and keyword letters in ASCII order. */
export function curName(base: string, letters: string): string {
  return `${base}:2,${[...new Set(letters)].sort().join('')}`;
}

export interface SplitName {
  base: string;
  /** Upper-case flag letters. */
  flags: string;
  /** Lower-case keyword letters. */
  keywords: string;
}

export function splitName(name: string): SplitName {
  const at = name.lastIndexOf(':2,');
  if (at < 0) return { base: name, flags: '', keywords: '' };
  const letters = [...name.slice(at + 3)];
  return {
    base: name.slice(0, at),
    flags: letters.filter((c) => c < 'a' || c > 'z').join(''),
    keywords: letters.filter((c) => c >= 'a' && c <= 'z').join(''),
  };
}

/** Directory of a folder under the root: "" for INBOX, `.Name` otherwise. */
export function folderDir(root: string, folder: string): string {
  return folder === INBOX ? root : join(root, `.${folder}`);
}

/** Delivers as an MTA does: written in tmp/ with its arrival time, then renamed into new/. */
export function deliverToNew(dir: string, base: string, data: Buffer, seconds: number): void {
  const tmp = join(dir, 'tmp', base);
  writeFileSync(tmp, data);
  utimesSync(tmp, seconds, seconds);
  renameSync(tmp, join(dir, 'new', base));
}

/** INBOX first, then the `.Name` folders, sorted: a stable order whatever readdir returns. */
export function listFolders(root: string): string[] {
  const subs = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name.startsWith('.') && existsSync(join(root, e.name, 'cur')))
    .map((e) => e.name.slice(1))
    .sort();
  return [INBOX, ...subs];
}

/** The keyword names of a folder, indexed by letter (a = 0). */
export function readKeywords(dir: string): string[] {
  const path = join(dir, 'dovecot-keywords');
  if (!existsSync(path)) return [];
  const names: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(\d+) (.+)$/.exec(line);
    if (m) names[Number(m[1])] = m[2] as string;
  }
  return names;
}

export function writeKeywords(dir: string, names: string[]): void {
  writeFileSync(join(dir, 'dovecot-keywords'), names.map((n, i) => `${i} ${n}\n`).join(''));
}

/** Dovecot's v2 subscriptions file: "V\t2", an empty line, then one name per line with "/" as a tab. */
export function writeSubscriptions(root: string, folders: string[]): void {
  writeFileSync(join(root, 'subscriptions'), 'V\t2\n\n' + folders.map((f) => f.split('/').join('\t') + '\n').join(''));
}
