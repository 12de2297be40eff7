// Builds Maildir trees on disk for tests and reads them back as a user would check them.

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export interface MessageSpec {
  /** Base name (GUID); the info is built from flags and keyword letters. */
  base: string;
  body: string;
  flags?: string;
  /** Keyword letters (a–z) into the folder's keywords. */
  letters?: string;
  location?: 'new' | 'cur';
  mtime?: Date;
}

export interface FolderSpec {
  /** Directory under the root: "" for INBOX, ".Work", ".Work.Sub" (Maildir++). */
  dir: string;
  keywords?: string[];
  messages: MessageSpec[];
}

export async function tempDir(prefix = 'mdsync-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export function fileName(m: MessageSpec): string {
  const location = m.location ?? 'cur';
  const letters = [...(m.flags ?? '') + (m.letters ?? '')].sort().join('');
  return location === 'new' && letters === '' ? m.base : `${m.base}:2,${letters}`;
}

export async function makeFolder(root: string, spec: FolderSpec): Promise<void> {
  const dir = join(root, spec.dir);
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(dir, sub), { recursive: true });
  if (spec.dir !== '') await writeFile(join(dir, 'maildirfolder'), '');
  if (spec.keywords) await writeFile(join(dir, 'dovecot-keywords'), spec.keywords.map((k, i) => `${i} ${k}\n`).join(''));
  for (const m of spec.messages) await addMessage(root, spec.dir, m);
}

export async function addMessage(root: string, dir: string, m: MessageSpec): Promise<string> {
  const path = join(root, dir, m.location ?? 'cur', fileName(m));
  await writeFile(path, m.body);
  const t = m.mtime ?? new Date('2021-03-04T05:06:07Z');
  await utimes(path, t, t);
  return path;
}

export async function makeMaildir(root: string, folders: FolderSpec[], subscriptions?: string[]): Promise<void> {
  for (const f of folders) await makeFolder(root, f);
  if (subscriptions) await writeFile(join(root, 'subscriptions'), 'V\t2\n\n' + subscriptions.map((s) => s.split('/').join('\t') + '\n').join(''));
}

export function message(base: string, subject: string, extra: Partial<MessageSpec> = {}): MessageSpec {
  const body = `From: a@example.org\r\nTo: b@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${base}@example.org>\r\n\r\nBody of ${subject}\r\n`;
  return { base: `${base},S=${Buffer.byteLength(body)}`, body, ...extra };
}

/** A folder of `count` messages of about 3 KB (a quarter unread), numbered from `start`: enough that a run takes a while. */
export function bulkFolder(dir: string, start: number, count: number): FolderSpec {
  const padding = `${'y'.repeat(70)}\r\n`.repeat(40);
  return {
    dir,
    messages: Array.from({ length: count }, (_, i) => {
      const m = message(`16${String(start + i).padStart(8, '0')}.M${i}P9.host`, `bulk ${start + i}`, { flags: i % 4 === 0 ? '' : 'S' });
      const body = m.body + padding;
      return { ...m, base: m.base.replace(/,S=\d+$/, `,S=${Buffer.byteLength(body)}`), body };
    }),
  };
}

/** A small message whose Subject and Message-ID are `id`, as a client or MTA would hand it over. */
export function mailText(id: string): string {
  return `From: c@example.org\r\nTo: d@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\n\r\nBody of ${id}\r\n`;
}

export interface TreeFile {
  path: string;
  sha: string;
  mtimeMs: number;
  ino: number;
}

/** Every file under root (message files and control files), sorted by path; skips the lock and tmp/. */
export async function readTree(root: string): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'tmp') await walk(p);
      } else if (e.name !== 'mdsync.lock') {
        const st = await stat(p);
        out.push({ path: relative(root, p), sha: createHash('sha256').update(await readFile(p)).digest('hex'), mtimeMs: Math.floor(st.mtimeMs), ino: st.ino });
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Message files only: path relative to root ("<dir>/cur/<name>"), bytes hash, mtime. */
export async function messageFiles(root: string): Promise<TreeFile[]> {
  return (await readTree(root)).filter((f) => /(^|\/)(cur|new)\/[^/]+$/.test(f.path));
}

/** Message files as a user compares two Maildirs: path (with flags), bytes hash, mtime; no inode. */
export async function messageContents(root: string): Promise<Omit<TreeFile, 'ino'>[]> {
  return (await messageFiles(root)).map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));
}

/** Content hashes per folder directory, to prove no message is lost or duplicated. */
export async function contentsByFolder(root: string): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  for (const f of await messageFiles(root)) {
    const folder = f.path.replace(/\/?(cur|new)\/[^/]+$/, '') || 'INBOX';
    map.set(folder, [...(map.get(folder) ?? []), f.sha].sort());
  }
  return map;
}

export async function listNames(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}
