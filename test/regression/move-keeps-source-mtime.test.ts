// A message a client moved by writing a new file (a new arrival date) in another folder: the
// replica's move carries the source's mtime, and a message sharing the old file's inode keeps its own.
// (The replica's move was a hard link to its old file, which kept the old mtime: verify failed forever.)

import { link, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addMessage, makeMaildir, mailText, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const OLD = new Date('2021-03-04T05:06:07Z');
const MOVED = new Date('2024-01-02T03:04:05Z');
const X = '1700000001.M1P1.host';
const COPY = '1700000002.M2P1.host';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(() => removeDir(work));

async function fileIn(dir: string): Promise<string> {
  const names = await readdir(dir);
  expect(names).toHaveLength(1);
  return join(dir, names[0] as string);
}

// Pulled from a far source too: the source's mtimes then cross the wire (`mtimes`).
const cases: [string, SideTransport, 'replica' | 'source'][] = [
  ['local', localTransport, 'replica'], ['to mdsync serve', serveTransport, 'replica'], ['from mdsync serve', serveTransport, 'source'],
];

describe.each(cases)('a move by a new file on the source (%s)', (_name, t, far) => {
  it('gives the replica the source mtime; a copy sharing the old inode keeps its own', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    const a = join(work, 'a');
    const b = join(work, 'b');
    const ends = (): string[] => (far === 'replica' ? [a, t.endpoint(b)] : [t.endpoint(a), b]);
    const body = mailText('moved');
    await makeMaildir(a, [
      { dir: '', messages: [{ base: X, body, flags: 'S', mtime: OLD }] },
      { dir: '.Work', messages: [{ base: COPY, body, flags: 'S', mtime: OLD }] },
      { dir: '.Archive', messages: [] },
    ]);
    expect((await cli(['backup', ...ends()])).code).toBe(0);
    // The replica's copy in Work is a hard link to its INBOX message, as Dovecot's own copy makes.
    const bCopy = await fileIn(join(b, '.Work', 'cur'));
    await unlink(bCopy);
    await link(await fileIn(join(b, 'cur')), bCopy);

    // The client moves the INBOX message to Archive by writing a new file, arrival date now.
    await unlink(await fileIn(join(a, 'cur')));
    await addMessage(a, '.Archive', { base: '1704164645.M9P1.host', body, flags: 'S', mtime: MOVED });

    const run = await cli(['backup', ...ends()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await readdir(join(b, 'cur'))).toEqual([]);
    const moved = await stat(await fileIn(join(b, '.Archive', 'cur')));
    expect(moved.mtime.toISOString()).toBe(MOVED.toISOString());
    expect((await stat(bCopy)).mtime.toISOString()).toBe(OLD.toISOString());
    const verify = await cli(['verify', ...ends()]);
    expect(verify.stdout + verify.stderr).not.toMatch(/mtime/);
    expect(verify.code).toBe(0);
    expect((await cli(['backup', ...ends()])).code).toBe(0);
  });
});
