// A replica whose folder got a UIDVALIDITY of its own, then a lost state (and scan cache): the next
// backup kept the source's UIDs but went back to the old UIDVALIDITY, under which the replica had
// given UID 4 to another message, so a client caching it saw UID 4 name two messages (RFC 3501 2.3.1.1).

import { rm } from 'node:fs/promises';
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
  ]);
  await mailboxStatus(config, src, 'INBOX');
});

afterEach(() => removeDir(work));

/** What the replica's IMAP clients have seen: each look fails where a UID under a UIDVALIDITY now names another message. */
class ReplicaClient {
  private readonly seen = new Map<string, string>();

  async look(): Promise<number> {
    const { uidvalidity } = await mailboxStatus(config, dst, 'INBOX');
    const out = await doveadm(config, dst, ['-f', 'tab', 'fetch', 'uid hdr.message-id', 'mailbox', 'INBOX', 'ALL']);
    for (const line of out.trim().split('\n').slice(1).filter(Boolean)) {
      const [uid, id] = line.split('\t').map((s) => s.trim());
      const key = `${uidvalidity} ${uid}`;
      expect(this.seen.get(key) ?? id, `UID ${uid} under UIDVALIDITY ${uidvalidity}`).toBe(id);
      this.seen.set(key, id as string);
    }
    return uidvalidity;
  }
}

describe.each([localTransport, serveTransport])('a replica with a UIDVALIDITY of its own, its state lost ($name)', (t: SideTransport) => {
  it('keeps that UIDVALIDITY (or gets a newer one), never the one under which it gave a UID to another message', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    const backup = (): ReturnType<typeof cli> => cli(['backup', src, t.endpoint(dst)]);
    const client = new ReplicaClient();
    expect((await backup()).code).toBe(0);
    const old = await client.look();
    await doveadmSave(config, dst, 'INBOX', mailText('delivered-to-replica'));
    await client.look();
    await doveadmSave(config, src, 'INBOX', mailText('delivered-to-source'));
    expect((await backup()).code).toBe(0);
    const renewed = await client.look();
    expect(renewed).toBeGreaterThan(old);

    await rm(join(work, 'state'), { recursive: true, force: true });
    await rm(join(work, 'cache'), { recursive: true, force: true });
    const run = await backup();
    expect(run.code).toBe(0);
    expect(await client.look()).toBeGreaterThanOrEqual(renewed);
    const uids = (root: string): Promise<string> => doveadm(config, root, ['-f', 'tab', 'fetch', 'uid hdr.message-id', 'mailbox', 'INBOX', 'ALL']);
    expect(await uids(dst)).toBe(await uids(src));

    // The source's new mail gets its UID, under the same UIDVALIDITY.
    await doveadmSave(config, src, 'INBOX', mailText('later-to-source'));
    expect((await backup()).code).toBe(0);
    expect(await client.look()).toBeGreaterThanOrEqual(renewed);
    expect(await uids(dst)).toBe(await uids(src));
  });
});
