// Two-way sync between two Dovecot-managed Maildirs with new mail on both sides, judged by Dovecot on each side.

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf } from '../helpers/cli.js';
import { doveadm, doveadmSave, dovecotWorkDir, mailboxList, mailboxStatus, type DovecotStatus } from '../helpers/dovecot.js';
import { mailText, makeMaildir, message, removeDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let config: string;
let a: string;
let b: string;

interface SeenMessage {
  uid: number;
  guid: string;
  /** Without the session's \Recent, sorted. */
  flags: string[];
  /** The Message-ID header: what tells one message from another across both sides. */
  id: string;
}

interface MailboxView {
  status: DovecotStatus;
  messages: SeenMessage[];
}

type SideView = Map<string, MailboxView>;

const inboxBase = (i: number): string => `16000000${String(i).padStart(2, '0')}.M${i}P1.host`;
const workBase = (i: number): string => `16000001${String(i).padStart(2, '0')}.M${i}P2.host`;
const idOf = (base: string): string => `<${base}@example.org>`;

async function mailboxView(dir: string, mailbox: string): Promise<MailboxView> {
  const status = await mailboxStatus(config, dir, mailbox);
  const out = await doveadm(config, dir, ['-f', 'tab', 'fetch', 'uid guid flags hdr.message-id', 'mailbox', mailbox, 'ALL']);
  const messages = out.trim().split('\n').slice(1).filter(Boolean).map((line) => {
    const [uid, guid, flags, id] = line.split('\t');
    return { uid: Number(uid), guid: guid as string, flags: (flags ?? '').split(' ').filter((f) => f && f !== '\\Recent').sort(), id: (id ?? '').trim() };
  });
  return { status, messages };
}

async function sideView(dir: string): Promise<SideView> {
  const view: SideView = new Map();
  for (const mailbox of (await mailboxList(config, dir)).all) view.set(mailbox, await mailboxView(dir, mailbox));
  return view;
}

function uidOf(view: SideView, mailbox: string, id: string): string {
  const found = view.get(mailbox)?.messages.find((m) => m.id === id);
  if (!found) throw new Error(`${id} is not in ${mailbox}`);
  return String(found.uid);
}

function flagsOf(view: SideView, mailbox: string, id: string): string[] | undefined {
  return view.get(mailbox)?.messages.find((m) => m.id === id)?.flags;
}

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [
    { dir: '', messages: Array.from({ length: 8 }, (_, i) => message(inboxBase(i), `inbox ${i}`, i < 3 ? { location: 'new' } : { flags: 'S' })) },
    { dir: '.Work', messages: Array.from({ length: 5 }, (_, i) => message(workBase(i), `work ${i}`, { flags: 'S' })) },
  ], ['Work']);
  // Dovecot numbers A's messages, leaves gaps (Work loses its highest UID) and sets flags and keywords.
  await doveadm(config, a, ['expunge', 'mailbox', 'INBOX', 'uid', '2:3']);
  await doveadm(config, a, ['expunge', 'mailbox', 'Work', 'uid', '5']);
  await doveadm(config, a, ['flags', 'add', '\\Flagged $Label1', 'mailbox', 'INBOX', 'uid', '5:6']);
  await doveadm(config, a, ['flags', 'add', '$Label1', 'mailbox', 'Work', 'uid', '1:2']);
});

afterEach(() => removeDir(work));

describe.each([localTransport, serveTransport])('two-way sync judged by Dovecot ($name)', (t: SideTransport) => {
  it('shows both sides\' new mail on each side, keeps every UID and makes no duplicate', async () => {
    const cli = cliVia(t, work);
    const first = await cli(['sync', a, t.endpoint(b)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // Dovecot takes B in hand: its own index, uidlist and UIDs.
    for (const mailbox of ['INBOX', 'Work']) await mailboxStatus(config, b, mailbox);

    for (const [dir, side] of [[a, 'a'], [b, 'b']] as const) {
      await doveadmSave(config, dir, 'INBOX', mailText(`${side}-inbox-1`));
      await doveadmSave(config, dir, 'INBOX', mailText(`${side}-inbox-2`));
      await doveadmSave(config, dir, 'Work', mailText(`${side}-work-1`));
    }
    await doveadm(config, b, ['mailbox', 'create', 'Projects']);
    await doveadmSave(config, b, 'Projects', mailText('b-projects-1'));
    const numbered = { a: await sideView(a), b: await sideView(b) };
    // One flag change of each kind per side, on messages both sides hold.
    await doveadm(config, a, ['flags', 'add', '\\Answered', 'mailbox', 'INBOX', 'uid', uidOf(numbered.a, 'INBOX', idOf(inboxBase(3)))]);
    await doveadm(config, a, ['flags', 'remove', '$Label1', 'mailbox', 'Work', 'uid', uidOf(numbered.a, 'Work', idOf(workBase(0)))]);
    await doveadm(config, b, ['flags', 'add', '$Label2', 'mailbox', 'INBOX', 'uid', uidOf(numbered.b, 'INBOX', idOf(inboxBase(6)))]);
    await doveadm(config, b, ['flags', 'remove', '\\Flagged', 'mailbox', 'INBOX', 'uid', uidOf(numbered.b, 'INBOX', idOf(inboxBase(4)))]);
    const before = { a: await sideView(a), b: await sideView(b) };

    const r = await cli(['sync', a, t.endpoint(b)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = { a: await sideView(a), b: await sideView(b) };

    const mailboxes = ['INBOX', 'Projects', 'Work'];
    for (const side of ['a', 'b'] as const) expect([...after[side].keys()].sort(), side).toEqual(mailboxes);
    for (const mailbox of mailboxes) {
      const union = [...new Set([...before.a.get(mailbox)?.messages ?? [], ...before.b.get(mailbox)?.messages ?? []].map((m) => m.id))].sort();
      for (const side of ['a', 'b'] as const) {
        const now = after[side].get(mailbox) as MailboxView;
        // A sorted list, not a set: a duplicate shows as an extra entry.
        expect(now.messages.map((m) => m.id).sort(), `${side} ${mailbox}`).toEqual(union);
        const was = before[side].get(mailbox);
        if (!was) continue;
        expect(now.status.uidvalidity, `${side} ${mailbox} UIDVALIDITY`).toBe(was.status.uidvalidity);
        const byUid = new Map(now.messages.map((m) => [m.uid, m]));
        for (const m of was.messages) {
          expect({ uid: m.uid, id: byUid.get(m.uid)?.id, guid: byUid.get(m.uid)?.guid }, `${side} ${mailbox}`).toEqual({ uid: m.uid, id: m.id, guid: m.guid });
        }
        const known = new Set(was.messages.map((m) => m.id));
        for (const m of now.messages.filter((n) => !known.has(n.id))) {
          expect(m.uid, `${side} ${mailbox} ${m.id}`).toBeGreaterThanOrEqual(was.status.uidnext);
        }
      }
      // Each message carries the same Dovecot GUID and the merged flags on both sides.
      const byId = (view: SideView): Record<string, { guid: string; flags: string[] }> =>
        Object.fromEntries((view.get(mailbox)?.messages ?? []).map((m) => [m.id, { guid: m.guid, flags: m.flags }]));
      expect(byId(after.b), mailbox).toEqual(byId(after.a));
    }
    expect(flagsOf(after.b, 'INBOX', idOf(inboxBase(3)))).toEqual(['\\Answered', '\\Seen']);
    expect(flagsOf(after.b, 'Work', idOf(workBase(0)))).toEqual(['\\Seen']);
    expect(flagsOf(after.a, 'INBOX', idOf(inboxBase(6)))).toEqual(['$Label2', '\\Seen']);
    expect(flagsOf(after.a, 'INBOX', idOf(inboxBase(4)))).toEqual(['$Label1', '\\Seen']);

    const verify = await cli(['verify', a, t.endpoint(b)]);
    expect(verify.stderr).toBe('');
    expect(verify.stdout).toBe('identical: 3 folders, 17 messages\n');
    expect(verify.code).toBe(0);

    const again = await cli(['sync', '--json', a, t.endpoint(b)]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(jsonOf(again).bytes).toBe(0);
    expect(Object.entries(jsonOf(again).summary).filter(([, n]) => n.a !== 0 || n.b !== 0)).toEqual([]);
    expect({ a: await sideView(a), b: await sideView(b) }).toEqual(after);
  });
});
