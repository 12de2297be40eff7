// A backup judged by Dovecot, locally and over SSH: the replica's mailbox status and every message's UID, GUID, flags and keywords.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doveadm, doveadmSave, dovecotWorkDir, fetchMessages, mailboxStatus } from '../helpers/dovecot.js';
import { addMessage, mailText, makeMaildir, message, removeDir } from '../helpers/maildir.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { opensshTransport } from '../helpers/ssh-transports.js';
import { cliVia, inPasses, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let config: string;
let src: string;
let dst: string;

/** Messages added to each source mailbox before the concurrent run. */
const BULK = 300;

const server = useSshd();

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
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

afterEach(() => removeDir(work));

async function expectSameToDovecot(): Promise<void> {
  for (const mailbox of ['INBOX', 'Work']) {
    expect(await mailboxStatus(config, dst, mailbox), mailbox).toEqual(await mailboxStatus(config, src, mailbox));
    expect(await fetchMessages(config, dst, mailbox), mailbox).toEqual(await fetchMessages(config, src, mailbox));
  }
}

/** Message-IDs Dovecot lists in one mailbox, in UID order. */
async function messageIds(dir: string, mailbox: string): Promise<string[]> {
  const out = await doveadm(config, dir, ['-f', 'tab', 'fetch', 'hdr.message-id', 'mailbox', mailbox, 'ALL']);
  return out.trim().split('\n').slice(1).map((line) => line.trim()).filter(Boolean);
}

/** Enough mail (about 4 KB each) that a run lasts a while; Dovecot numbers it before the run, as it would have. */
async function growSource(perMailbox: number): Promise<void> {
  const padding = `${'x'.repeat(76)}\r\n`.repeat(50);
  for (const [dir, mailbox, pid] of [['', 'INBOX', 3], ['.Work', 'Work', 4]] as const) {
    for (let i = 0; i < perMailbox; i++) {
      const base = `17000${String(i).padStart(5, '0')}.M${i}P${pid}.host`;
      const body = mailText(`bulk-${mailbox}-${i}`) + padding;
      await addMessage(src, dir, { base: `${base},S=${Buffer.byteLength(body)}`, body, flags: i % 3 === 0 ? '' : 'S' });
    }
    await mailboxStatus(config, src, mailbox);
  }
}

// The SSH client makes no difference to what Dovecot reads: the built-in one runs the suites of sync-ssh.test.ts.
describe.each([localTransport, serveTransport, opensshTransport(server), inPasses(localTransport), inPasses(opensshTransport(server))])('backup judged by Dovecot ($name)', (t: SideTransport) => {
  beforeEach(async () => {
    await t.prepare?.(work);
  });

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

  it('Dovecot keeps working on the source during a backup', async () => {
    const cli = cliVia(t, work);
    await growSource(BULK);
    const uids = new Map<string, number[]>();
    for (const mailbox of ['INBOX', 'Work']) uids.set(mailbox, (await fetchMessages(config, src, mailbox)).map((m) => m.uid));
    const delivered = new Map<string, string[]>([['INBOX', []], ['Work', []]]);

    let running = true;
    const run = cli(['backup', src, t.endpoint(dst)]).finally(() => {
      running = false;
    });
    let overlapped = 0;
    // One doveadm at a time, as a user's client would; those that end before the run does overlapped it.
    for (let i = 0; running || i < 4; i++) {
      const mailbox = i % 4 < 2 ? 'INBOX' : 'Work';
      const known = uids.get(mailbox) as number[];
      const uid = String(known[(i * 37) % known.length]);
      if (i % 2 === 0) {
        const id = `during-${mailbox}-${i}`;
        await doveadmSave(config, src, mailbox, mailText(id));
        delivered.get(mailbox)?.push(`<${id}@example.org>`);
      } else if (i % 3 === 0) {
        await doveadm(config, src, ['flags', 'remove', '\\Seen $Label1', 'mailbox', mailbox, 'uid', uid]);
      } else {
        await doveadm(config, src, ['flags', 'add', `\\Flagged $Label${i % 5}`, 'mailbox', mailbox, 'uid', uid]);
      }
      if (running) overlapped++;
    }
    const first = await run;
    expect(overlapped, 'Dovecot operations done while the backup ran').toBeGreaterThan(0);
    expect([0, 2], first.stderr).toContain(first.code);
    expect(first.stderr).not.toContain('    at ');

    const second = await cli(['backup', src, t.endpoint(dst)]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    await expectSameToDovecot();
    expect((await cli(['verify', '--uids', src, t.endpoint(dst)])).code).toBe(0);
    for (const [mailbox, ids] of delivered) {
      const replica = await messageIds(dst, mailbox);
      expect(replica, mailbox).toHaveLength(new Set(replica).size);
      expect(replica.filter((id) => id.startsWith('<during-')).sort(), mailbox).toEqual([...ids].sort());
    }
  });
});
