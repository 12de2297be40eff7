// Filing messages into another folder, or renaming a folder, is not a deletion: the content stays
// on that side. The guards counted each move's expunge ("refusing to expunge 40 of 120 messages",
// "refusing to delete folder … holding 150 messages", exit 3), so users learnt to pass --force,
// which disables the guard for real deletions; summaries and -v counted a move twice.

import { readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doveadm, dovecotWorkDir } from '../helpers/dovecot.js';
import { bulkFolder, contentsByFolder, makeMaildir, removeDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let config: string;
let a: string;
let b: string;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [bulkFolder('', 0, 120), bulkFolder('.Work', 1000, 150), { dir: '.Archive', messages: [] }]);
});

afterEach(() => removeDir(work));

const curOf = (root: string, dir: string): Promise<string[]> => readdir(join(root, dir, 'cur')).then((n) => n.sort());

/** Every folder's contents on both sides are the same, and no message is held twice on a side. */
async function expectSameNoDuplicates(): Promise<void> {
  const onA = await contentsByFolder(a);
  expect(Object.fromEntries(await contentsByFolder(b))).toEqual(Object.fromEntries(onA));
  const all = [...onA.values()].flat();
  expect(new Set(all).size).toBe(all.length);
}

describe.each([localTransport, serveTransport])('moves and renames ($name)', (t: SideTransport) => {
  const sync = async (...more: string[]): Promise<Awaited<ReturnType<ReturnType<typeof cliVia>>>> =>
    cliVia(t, work)(['sync', a, t.endpoint(b), ...more]);

  beforeEach(async () => {
    await t.prepare?.(work);
    const first = await sync();
    expect(first.code, first.stderr).toBe(0);
  });

  it('files 40 of 120 INBOX messages into Archive (mv): not refused, counted as 40 moves and no expunge', async () => {
    for (const name of (await curOf(a, '')).slice(0, 40)) await rename(join(a, 'cur', name), join(a, '.Archive', 'cur', name));
    const r = await sync('-v');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sync: copied 0/0, moved 0/40, flagged 0/0, expunged 0/0,');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('move ')).length).toBe(40);
    expect(r.stdout).not.toMatch(/^expunge /m);
    expect(await curOf(b, '.Archive')).toHaveLength(40);
    await expectSameNoDuplicates();
  });

  it('files 40 of 120 INBOX messages into Archive with Dovecot (IMAP MOVE): not refused', async () => {
    await doveadm(config, a, ['move', 'Archive', 'mailbox', 'INBOX', 'uid', '1:40']);
    const r = await sync();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('moved 0/40');
    expect(r.stdout).toContain('expunged 0/0');
    await expectSameNoDuplicates();
  });

  it('renames a folder of 150 messages: a rename, not a folder deletion', async () => {
    await rename(join(a, '.Work'), join(a, '.Projects'));
    const r = await sync();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('moved 0/150');
    expect(r.stdout).toContain('expunged 0/0');
    expect(await readdir(b)).not.toContain('.Work');
    expect(await curOf(b, '.Projects')).toHaveLength(150);
    await expectSameNoDuplicates();
  });

  it('still refuses real deletions: 80 of 270 expunged, and a folder of 150 deleted', async () => {
    for (const name of (await curOf(a, '')).slice(0, 80)) await unlink(join(a, 'cur', name));
    const expunged = await sync();
    expect(expunged.code).toBe(3);
    expect(expunged.stderr).toContain('refusing to expunge 80 of 270 messages on the second side (limit 67');
    expect(await curOf(b, '')).toHaveLength(120);
    await removeDir(join(a, '.Work'));
    const deleted = await sync('--max-delete', '100%');
    expect(deleted.code).toBe(3);
    expect(deleted.stderr).toContain('refusing to delete folder "Work" holding 150 messages on the second side');
  });
});
