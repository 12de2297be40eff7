// A message copied between folders is one file under two names (Dovecot's
// maildir_copy_with_hardlinks: IMAP COPY, doveadm copy). It was sent and written again on the
// other side: a copy of a 3013-byte message cost 6026 bytes and two files there.

import { appendFile, link, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doveadm, dovecotWorkDir } from '../helpers/dovecot.js';
import { bulkFolder, contentsByFolder, makeMaildir, removeDir } from '../helpers/maildir.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { opensshTransport } from '../helpers/ssh-transports.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const server = useSshd();

let work: string;
let config: string;
let a: string;
let b: string;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [bulkFolder('', 0, 8), bulkFolder('.Work', 100, 4), { dir: '.Archive', messages: [] }]);
});

afterEach(() => removeDir(work));

interface FileInfo { path: string; bytes: string; ino: number; nlink: number; mtimeMs: number }

/** The message files of a folder of a Maildir ('' is INBOX), with their bytes and inode. */
async function filesOf(root: string, dir: string): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for (const sub of ['new', 'cur']) {
    for (const name of await readdir(join(root, dir, sub))) {
      const path = join(root, dir, sub, name);
      const st = await stat(path);
      out.push({ path, bytes: await readFile(path, 'utf8'), ino: st.ino, nlink: st.nlink, mtimeMs: st.mtimeMs });
    }
  }
  return out;
}

/** Each file of `copiesDir` is the very file (one inode) of the message with its bytes in one of `originalDirs`. */
async function expectLinked(root: string, copiesDir: string, originalDirs: string[], count: number): Promise<void> {
  const originals = (await Promise.all(originalDirs.map((d) => filesOf(root, d)))).flat();
  const copies = await filesOf(root, copiesDir);
  expect(copies).toHaveLength(count);
  for (const c of copies) {
    const o = originals.find((x) => x.bytes === c.bytes);
    expect(o, `${c.path} has the bytes of a message of ${originalDirs.join(' or ')}`).toBeDefined();
    expect(c.ino, `${c.path} is a link to ${o?.path}`).toBe(o?.ino);
  }
}

async function expectSameContents(): Promise<void> {
  expect(Object.fromEntries(await contentsByFolder(b))).toEqual(Object.fromEntries(await contentsByFolder(a)));
}

const sizeOf = (files: FileInfo[]): number => files.reduce((n, f) => n + Buffer.byteLength(f.bytes), 0);

type Run = Awaited<ReturnType<ReturnType<typeof cliVia>>>;
const json = (r: Run): { summary: { copied: { a: number; b: number }; linked: { a: number; b: number } }; bytes: number } => JSON.parse(r.stdout);

describe.each([localTransport, serveTransport, opensshTransport(server)])('a copy between folders is a hard link ($name)', (t: SideTransport) => {
  const run = (args: string[]): Promise<Run> => cliVia(t, work)(args);

  beforeEach(async () => {
    await t.prepare?.(work);
  });

  it('copy-between-folders-linked: a first copy sends the bytes of messages Dovecot copied once and links the copies', async () => {
    await doveadm(config, a, ['copy', 'Archive', 'mailbox', 'INBOX', 'uid', '1:5']);
    await expectLinked(a, '.Archive', [''], 5);
    const r = await run(['backup', '--json', a, t.endpoint(b)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.summary.copied).toEqual({ a: 0, b: 17 });
    expect(out.summary.linked).toEqual({ a: 0, b: 5 });
    // INBOX and Work sent, Archive not: its five are links on the replica too.
    expect(out.bytes).toBe(sizeOf(await filesOf(a, '')) + sizeOf(await filesOf(a, '.Work')));
    await expectLinked(b, '.Archive', [''], 5);
    await expectSameContents();
    // A link shares its mtime: the copy's arrival date is the source's (to the millisecond, as any copy's).
    const sourceMtime = async (bytes: string): Promise<number> => Math.floor((await filesOf(a, '.Archive')).find((x) => x.bytes === bytes)?.mtimeMs ?? 0);
    for (const f of await filesOf(b, '.Archive')) expect(Math.floor(f.mtimeMs)).toBe(await sourceMtime(f.bytes));
    const v = await run(['verify', a, t.endpoint(b)]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('a copy of a message the other side holds already is linked there, nothing sent, both ways', async () => {
    const first = await run(['sync', a, t.endpoint(b)]);
    expect(first.code, first.stderr).toBe(0);
    await doveadm(config, a, ['copy', 'Archive', 'mailbox', 'INBOX', 'uid', '2:4']);
    // On the second side, a copy made as Dovecot makes it: a new name linked to the file.
    const work1 = (await filesOf(b, '.Work'))[0] as FileInfo;
    await link(work1.path, join(b, '.Archive', 'cur', `1700000001.M1P1.other:2,S`));
    const r = await run(['sync', '-v', '--json', a, t.endpoint(b)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.summary.copied).toEqual({ a: 1, b: 3 });
    expect(out.summary.linked).toEqual({ a: 1, b: 3 });
    expect(out.bytes).toBe(0);
    await expectLinked(b, '.Archive', ['', '.Work'], 4);
    await expectLinked(a, '.Archive', ['', '.Work'], 4);
    await expectSameContents();
    const again = await run(['sync', a, t.endpoint(b)]);
    expect(again.stdout).toContain('copied 0/0,');
  });

  it('a copy is sent when the receiving side\'s file holds other bytes now; -n reads no file and counts copies', async () => {
    const first = await run(['backup', a, t.endpoint(b)]);
    expect(first.code, first.stderr).toBe(0);
    const replicaFile = (await filesOf(b, '')).map((f) => f.path).sort()[0] as string;
    await doveadm(config, a, ['copy', 'Archive', 'mailbox', 'INBOX', 'all']);
    const dry = await run(['backup', '-n', a, t.endpoint(b)]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would do: copied 0/8, moved 0/0,');
    // Someone wrote into a replica's message file (a Maildir never does), its mtime kept: only its
    // bytes say it is not the message any more.
    const { atime, mtime } = await stat(replicaFile);
    await appendFile(replicaFile, 'tampered\n');
    await utimes(replicaFile, atime, mtime);
    const r = await run(['backup', '--json', a, t.endpoint(b)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.summary.copied).toEqual({ a: 0, b: 8 });
    expect(out.summary.linked).toEqual({ a: 0, b: 7 });
    const archive = await filesOf(b, '.Archive');
    const sources = await filesOf(a, '.Archive');
    expect(archive.map((f) => f.bytes).sort()).toEqual(sources.map((f) => f.bytes).sort());
    expect(out.bytes).toBe(sizeOf(archive.filter((f) => f.nlink === 1)));
    expect(archive.filter((f) => f.nlink === 1)).toHaveLength(1);
  });
});

describe('a copy whose original is in a folder the other side deleted since', () => {
  it('is sent, and the run ends 0', async () => {
    const t = localTransport;
    const cli = cliVia(t, work);
    expect((await cli(['sync', a, b])).code).toBe(0);
    await doveadm(config, a, ['copy', 'Archive', 'mailbox', 'Work', 'all']);
    await rm(join(b, '.Work'), { recursive: true });
    const r = await cli(['sync', '--json', a, b]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.summary.linked).toEqual({ a: 0, b: 0 });
    expect(out.bytes).toBe(sizeOf(await filesOf(a, '.Archive')));
    expect(await filesOf(b, '.Archive')).toHaveLength(4);
    await expectSameContents();
  });
});
