// Two-way sync when Dovecot gives a folder a new UIDVALIDITY (deleted and re-created, or its UIDs
// renumbered): the saved state of that folder is no evidence of expunges, so the folder is merged
// as a first meeting and the change is reported.

import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doveadm, dovecotWorkDir, fetchMessages, mailboxStatus } from '../helpers/dovecot.js';
import { makeMaildir, message, removeDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let config: string;
let a: string;
let b: string;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [
    { dir: '', messages: [1, 2, 3].map((n) => message(`170000000${n}.M${n}P1.host`, `inbox ${n}`, { flags: 'S' })) },
    { dir: '.Work', messages: [4, 5, 6, 7].map((n) => message(`170000000${n}.M${n}P1.host`, `work ${n}`, { flags: 'S' })) },
  ], ['Work']);
  await doveadm(config, a, ['mailbox', 'status', 'messages', 'INBOX']);
  await doveadm(config, a, ['mailbox', 'status', 'messages', 'Work']);
});

afterEach(() => removeDir(work));

/** Both sides synced, and Dovecot has numbered both, so the state knows each side's UIDVALIDITY. */
async function syncedPair(cli: (args: string[]) => Promise<{ code: number; stderr: string }>, t: SideTransport): Promise<void> {
  expect((await cli(['sync', a, t.endpoint(b)])).code).toBe(0);
  await doveadm(config, b, ['mailbox', 'status', 'messages', 'INBOX']);
  await doveadm(config, b, ['mailbox', 'status', 'messages', 'Work']);
  const again = await cli(['sync', a, t.endpoint(b)]);
  expect(again.stderr).toBe('');
  expect(again.code).toBe(0);
}

/** Subjects of a mailbox's messages as Dovecot lists them. */
async function subjects(root: string, mailbox: string): Promise<string[]> {
  const out = await doveadm(config, root, ['-f', 'tab', 'fetch', 'hdr.subject', 'mailbox', mailbox, 'ALL']);
  return out.trim().split('\n').slice(1).map((l) => l.trim()).filter(Boolean).sort();
}

describe.each([localTransport, serveTransport])('UIDVALIDITY changed on one side ($name)', (t: SideTransport) => {
  it('a folder re-created by Dovecot is merged as a union: nothing expunged, the change reported', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    await syncedPair(cli, t);
    const before = await mailboxStatus(config, a, 'Work');
    // Deleted and re-created through Dovecot: the new Work has one new message and a new UIDVALIDITY.
    await doveadm(config, a, ['mailbox', 'delete', 'Work']);
    await doveadm(config, a, ['mailbox', 'create', 'Work']);
    await doveadm(config, a, ['copy', 'Work', 'mailbox', 'INBOX', 'uid', '1']);
    const after = await mailboxStatus(config, a, 'Work');
    expect(after.uidvalidity).not.toBe(before.uidvalidity);
    expect(after.messages).toBe(1);

    const r = await cli(['sync', a, t.endpoint(b)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Work');
    expect(r.stderr).toContain(`UIDVALIDITY changed on the first side since the last sync (${before.uidvalidity} → ${after.uidvalidity}): merged as a first meeting, nothing expunged`);
    const all = ['inbox 1', 'work 4', 'work 5', 'work 6', 'work 7'];
    expect(await subjects(a, 'Work')).toEqual(all);
    expect(await subjects(b, 'Work')).toEqual(all);
    expect((await fetchMessages(config, a, 'Work')).length).toBe(5);
    expect((await fetchMessages(config, b, 'Work')).length).toBe(5);

    // Reported once: the state now holds the new UIDVALIDITY, and an expunge is trusted again.
    const quiet = await cli(['sync', a, t.endpoint(b)]);
    expect(quiet.stderr).toBe('');
    expect(quiet.code).toBe(0);
    await doveadm(config, a, ['expunge', 'mailbox', 'Work', 'uid', '2']);
    expect((await cli(['sync', a, t.endpoint(b)])).code).toBe(0);
    expect(await subjects(b, 'Work')).toEqual(await subjects(a, 'Work'));
    expect((await subjects(b, 'Work')).length).toBe(4);
    expect((await cli(['verify', a, t.endpoint(b)])).code).toBe(0);
  });

  it('UIDs renumbered on the second side (uidlist and indexes lost) keep every message, expunged elsewhere or not', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    await syncedPair(cli, t);
    const before = await mailboxStatus(config, b, 'INBOX');
    // Dovecot loses its uidlist and indexes: it numbers INBOX afresh under a new UIDVALIDITY,
    // while the first side expunges a message in the meantime.
    for (const f of await readdir(b)) if (f.startsWith('dovecot-uidlist') || f.startsWith('dovecot.index')) await unlink(join(b, f));
    const after = await mailboxStatus(config, b, 'INBOX');
    expect(after.uidvalidity).not.toBe(before.uidvalidity);
    await doveadm(config, a, ['expunge', 'mailbox', 'INBOX', 'uid', '3']);

    const r = await cli(['sync', a, t.endpoint(b)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`UIDVALIDITY changed on the second side since the last sync (${before.uidvalidity} → ${after.uidvalidity})`);
    // Not evidence either way: the message the first side expunged is kept on the second and comes back.
    expect(await subjects(a, 'INBOX')).toEqual(['inbox 1', 'inbox 2', 'inbox 3']);
    expect(await subjects(b, 'INBOX')).toEqual(['inbox 1', 'inbox 2', 'inbox 3']);
    // The folder whose UIDVALIDITY held still follows the usual rules.
    expect(r.stderr).not.toContain('UIDVALIDITY changed on the first side');
    expect((await cli(['verify', a, t.endpoint(b)])).code).toBe(0);
  });

  it('a renumbering and nothing else is reported once, then trusted', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    await syncedPair(cli, t);
    const before = await mailboxStatus(config, b, 'Work');
    for (const f of await readdir(join(b, '.Work'))) if (f.startsWith('dovecot-uidlist') || f.startsWith('dovecot.index')) await unlink(join(b, '.Work', f));
    const after = await mailboxStatus(config, b, 'Work');
    expect(after.uidvalidity).not.toBe(before.uidvalidity);

    const r = await cli(['sync', a, t.endpoint(b)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`mdsync: warning: Work: UIDVALIDITY changed on the second side since the last sync (${before.uidvalidity} → ${after.uidvalidity}): merged as a first meeting, nothing expunged\n`);
    const quiet = await cli(['sync', a, t.endpoint(b)]);
    expect(quiet.stderr).toBe('');
    expect(quiet.code).toBe(0);
  });
});
