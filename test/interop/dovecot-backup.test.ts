// A backup judged by Dovecot: the replica's mailbox status and every message's UID, GUID, flags and keywords.

import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { dovecotConfig, doveadm, fetchMessages, mailboxStatus, requireDovecot } from '../helpers/dovecot.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let config: string;
let src: string;
let dst: string;

beforeAll(() => {
  requireDovecot();
});

beforeEach(async () => {
  work = await tempDir();
  await chmod(work, 0o755);
  config = await dovecotConfig(work);
  src = join(work, 'src');
  dst = join(work, 'dst');
  await makeMaildir(src, [
    { dir: '', messages: Array.from({ length: 12 }, (_, i) => message(`16000000${String(i).padStart(2, '0')}.M${i}P1.host`, `inbox ${i}`, { location: i < 3 ? 'new' : 'cur' })) },
    { dir: '.Work', messages: Array.from({ length: 5 }, (_, i) => message(`16000001${String(i).padStart(2, '0')}.M${i}P2.host`, `work ${i}`, { flags: 'S' })) },
  ], ['Work']);
  // Dovecot numbers the messages, loses some (Work its highest UID: UIDNEXT then lives only in
  // Dovecot's index), and sets flags and keywords of its own.
  await doveadm(config, src, ['expunge', 'mailbox', 'INBOX', 'uid', '2:4']);
  await doveadm(config, src, ['expunge', 'mailbox', 'Work', 'uid', '5']);
  await doveadm(config, src, ['flags', 'add', '\\Flagged $Important', 'mailbox', 'INBOX', 'uid', '5:8']);
  await doveadm(config, src, ['flags', 'add', 'Junk', 'mailbox', 'Work', 'uid', '1:2']);
});

afterEach(async () => {
  await removeDir(work);
});

async function expectSameToDovecot(): Promise<void> {
  for (const mailbox of ['INBOX', 'Work']) {
    expect(await mailboxStatus(config, dst, mailbox), mailbox).toEqual(await mailboxStatus(config, src, mailbox));
    expect(await fetchMessages(config, dst, mailbox), mailbox).toEqual(await fetchMessages(config, src, mailbox));
  }
}

describe.each([localTransport, serveTransport])('backup judged by Dovecot ($name)', (t: SideTransport) => {
  it('gives the replica the same status, UIDs, GUIDs, flags and keywords', async () => {
    const cli = cliVia(t, work);
    const r = await cli(['backup', src, t.endpoint(dst)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expectSameToDovecot();
    expect((await cli(['verify', '--uids', src, t.endpoint(dst)])).code).toBe(0);
  });

  it('stays identical while Dovecot keeps working on the source', async () => {
    const cli = cliVia(t, work);
    expect((await cli(['backup', src, t.endpoint(dst)])).code).toBe(0);
    await expectSameToDovecot();
    await doveadm(config, src, ['flags', 'remove', '\\Flagged', 'mailbox', 'INBOX', 'uid', '5']);
    await doveadm(config, src, ['expunge', 'mailbox', 'INBOX', 'uid', '9']);
    await doveadm(config, src, ['move', 'Work', 'mailbox', 'INBOX', 'uid', '10']);
    const r = await cli(['backup', src, t.endpoint(dst)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expectSameToDovecot();
    expect((await cli(['verify', '--uids', src, t.endpoint(dst)])).code).toBe(0);
    // Once equal, the uidlists are left alone.
    const before = await stat(join(dst, 'dovecot-uidlist'));
    const again = await cli(['backup', src, t.endpoint(dst)]);
    expect(again.code).toBe(0);
    expect((await stat(join(dst, 'dovecot-uidlist'))).mtimeMs).toBe(before.mtimeMs);
  });
});
