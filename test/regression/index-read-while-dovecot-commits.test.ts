// Dovecot gives a new UID under dovecot-uidlist.lock, in its index and its uidlist one after the
// other. A scan that read the uidlist before such a commit and the index during it took the index's
// UIDNEXT: the backup gave its replica a NEXTUID past the message it did not yet know the UID of,
// and the next backup renewed the replica's UIDVALIDITY ("the replica gave UID 4 … to another
// message") though the replica never gave a UID of its own. A scan that finds Dovecot committing
// throughout tells no UIDNEXT (the uidlist's alone may be below what the replica was given).

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doveadm, doveadmSave, dovecotWorkDir, fetchMessages, mailboxStatus } from '../helpers/dovecot.js';
import { addMessage, mailText, makeMaildir, message, removeDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let config: string;
let src: string;
let dst: string;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  src = join(work, 'src');
  dst = join(work, 'dst');
  await makeMaildir(src, [
    { dir: '', messages: [1, 2, 3].map((n) => message(`160000000${n}.M${n}P1.host`, `inbox ${n}`, { flags: 'S' })) },
  ]);
  await mailboxStatus(config, src, 'INBOX');
});

afterEach(() => removeDir(work));

describe.each([localTransport, serveTransport])('a source scanned while Dovecot commits a new UID ($name)', (t: SideTransport) => {
  it('gives the replica no NEXTUID past a UID the uidlist read did not name: the next backup renews nothing', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    const uidlist = join(src, 'dovecot-uidlist');
    const before = await readFile(uidlist);
    await doveadmSave(config, src, 'INBOX', mailText('delivered-during-the-scan'));
    const after = await readFile(uidlist);
    // Mid-commit, as the scan finds it: the lock held, the index already counting UID 4, the uidlist not yet.
    await writeFile(uidlist, before);
    await writeFile(join(src, 'dovecot-uidlist.lock'), '');

    const first = await cli(['backup', src, t.endpoint(dst)]);
    expect(first.stderr).toMatch(/^mdsync: warning: INBOX: .*dovecot-uidlist: Dovecot kept dovecot-uidlist\.lock through the scan: the folder's UIDNEXT is read again next run\n$/);
    expect(first.code).toBe(0);
    // No NEXTUID told: the replica gets its UIDs from a run that reads them whole.
    expect(await readFile(join(dst, 'dovecot-uidlist'), 'utf8').catch(() => '')).not.toMatch(/ N5( |$)/m);

    // The commit ends.
    await writeFile(uidlist, after);
    await rm(join(src, 'dovecot-uidlist.lock'));
    const second = await cli(['backup', src, t.endpoint(dst)]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(await mailboxStatus(config, dst, 'INBOX')).toEqual(await mailboxStatus(config, src, 'INBOX'));
    expect(await fetchMessages(config, dst, 'INBOX')).toEqual(await fetchMessages(config, src, 'INBOX'));
    expect((await cli(['verify', '--uids', src, t.endpoint(dst)])).code).toBe(0);
  });

  it('keeps the replica\'s UIDVALIDITY when Dovecot holds the lock through a later scan and only its index knows UIDNEXT', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    // The highest UID expunged, and a uidlist whose header lags behind (as Dovecot leaves it after
    // appending in place): UIDNEXT 4 is only in Dovecot's index.
    await doveadm(config, src, ['expunge', 'mailbox', 'INBOX', 'uid', '3']);
    const [header, ...records] = (await readFile(join(src, 'dovecot-uidlist'), 'utf8')).split('\n');
    await writeFile(join(src, 'dovecot-uidlist'), [header?.replace(/ N\d+/, ' N3'), ...records.filter((l) => !l.startsWith('3 :'))].join('\n'));
    const first = await cli(['backup', src, t.endpoint(dst)]);
    expect(first.stderr).toBe('');
    expect((await readFile(join(dst, 'dovecot-uidlist'), 'utf8')).split('\n')[0]).toMatch(/ N4( |$)/);
    const uidValidity = (await readFile(join(dst, 'dovecot-uidlist'), 'utf8')).split('\n')[0];

    const sourceList = await readFile(join(src, 'dovecot-uidlist'), 'utf8');
    expect(sourceList.split('\n')[0], 'only the index knows UIDNEXT 4').not.toMatch(/ N4( |$)/);
    expect(sourceList).not.toMatch(/^3 :/m);
    // A delivery beside Dovecot's commit: this run places into INBOX and must tell its UIDs.
    await writeFile(join(src, 'dovecot-uidlist.lock'), '');
    await addMessage(src, '', { ...message('1600000009.M9P1.host', 'delivered while locked'), location: 'new' });
    const held = await cli(['backup', src, t.endpoint(dst)]);
    expect(held.stderr).not.toMatch(/UIDVALIDITY/);
    expect(held.stderr).toMatch(/Dovecot kept dovecot-uidlist\.lock through the scan/);
    expect(held.code).toBe(0);
    expect((await readFile(join(dst, 'dovecot-uidlist'), 'utf8')).split('\n')[0]).toBe(uidValidity);

    await rm(join(src, 'dovecot-uidlist.lock'));
    const after = await cli(['backup', src, t.endpoint(dst)]);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(await mailboxStatus(config, dst, 'INBOX')).toEqual(await mailboxStatus(config, src, 'INBOX'));
    expect((await cli(['verify', '--uids', src, t.endpoint(dst)])).code).toBe(0);
  });
});
