// At cut-over the replica's Dovecot gave UID 4 to a delivery and the source's gave its own UID 4 to
// another: after the backup no UID names two messages under one UIDVALIDITY, as an IMAP client sees
// them, the folder is named in a warning, and later runs keep the replica's new UIDVALIDITY quietly.
// (The replica's UID 4 became the source's message under the old UIDVALIDITY, RFC 3501 2.3.1.1.)

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doveadm, doveadmSave, dovecotWorkDir, mailboxStatus } from '../helpers/dovecot.js';
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
    { dir: '.Work', messages: [message('1600000009.M9P1.host', 'work 9', { flags: 'S' })] },
  ], ['Work']);
  await mailboxStatus(config, src, 'INBOX');
  await mailboxStatus(config, src, 'Work');
});

afterEach(() => removeDir(work));

/**
 * What an IMAP client of the replica has seen: UIDVALIDITY and UID → Message-ID. Each look fails
 * where a UID it saw under a UIDVALIDITY now names another message.
 */
class ReplicaClient {
  private readonly seen = new Map<string, string>();

  async look(mailbox: string): Promise<number> {
    const { uidvalidity } = await mailboxStatus(config, dst, mailbox);
    const out = await doveadm(config, dst, ['-f', 'tab', 'fetch', 'uid hdr.message-id', 'mailbox', mailbox, 'ALL']);
    for (const line of out.trim().split('\n').slice(1).filter(Boolean)) {
      const [uid, id] = line.split('\t').map((s) => s.trim());
      const key = `${mailbox} ${uidvalidity} ${uid}`;
      expect(this.seen.get(key) ?? id, `UID ${uid} under UIDVALIDITY ${uidvalidity} of ${mailbox}`).toBe(id);
      this.seen.set(key, id as string);
    }
    return uidvalidity;
  }
}

describe.each([localTransport, serveTransport])('a UID the replica gave at cut-over ($name)', (t: SideTransport) => {
  it('is never given to another message under the same UIDVALIDITY: the folder gets a new one, once, with a warning', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    const backup = (): Promise<{ code: number; stderr: string }> => cli(['backup', src, t.endpoint(dst)]);
    const client = new ReplicaClient();
    expect((await backup()).code).toBe(0);
    const before = await client.look('INBOX');
    expect(before).toBe((await mailboxStatus(config, src, 'INBOX')).uidvalidity);
    await client.look('Work');

    // Cut-over: each side's Dovecot delivers one message, both get UID 4.
    await doveadmSave(config, dst, 'INBOX', mailText('delivered-to-replica'));
    await client.look('INBOX');
    await doveadmSave(config, src, 'INBOX', mailText('delivered-to-source'));

    const run = await backup();
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/INBOX: .*UIDVALIDITY/);
    expect(run.stderr).not.toMatch(/Work/);
    const after = await client.look('INBOX');
    expect(after).toBeGreaterThan(before);
    expect((await client.look('Work'))).toBe((await mailboxStatus(config, src, 'Work')).uidvalidity);
    // The source's mail is all there, under the source's UIDs.
    const uids = (root: string): Promise<string> => doveadm(config, root, ['-f', 'tab', 'fetch', 'uid hdr.message-id', 'mailbox', 'INBOX', 'ALL']);
    expect(await uids(dst)).toBe(await uids(src));
    expect((await cli(['verify', src, t.endpoint(dst)])).code).toBe(0);

    // Later runs keep the new UIDVALIDITY without a word, and the source's new mail gets its UID.
    const quiet = await backup();
    expect(quiet.stderr).toBe('');
    expect(quiet.code).toBe(0);
    expect(await client.look('INBOX')).toBe(after);
    await doveadmSave(config, src, 'INBOX', mailText('later-to-source'));
    const later = await backup();
    expect(later.stderr).toBe('');
    expect(later.code).toBe(0);
    expect(await client.look('INBOX')).toBe(after);
    expect(await uids(dst)).toBe(await uids(src));
  });
});
