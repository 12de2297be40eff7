// Dovecot gives a new UID under dovecot-uidlist.lock, in its index and its uidlist one after the
// other. A scan that read the uidlist before such a commit and the index during it took the index's
// UIDNEXT: the backup gave its replica a NEXTUID past the message it did not yet know the UID of,
// and the next backup renewed the replica's UIDVALIDITY ("the replica gave UID 4 … to another
// message") though the replica never gave a UID of its own.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doveadmSave, dovecotWorkDir, fetchMessages, mailboxStatus } from '../helpers/dovecot.js';
import { mailText, makeMaildir, message, removeDir } from '../helpers/maildir.js';
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
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // Read as text: Dovecot opening the replica now would number the message itself.
    expect((await readFile(join(dst, 'dovecot-uidlist'), 'utf8')).split('\n')[0]).toMatch(/ N4( |$)/);

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
});
