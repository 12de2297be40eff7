// Two-way sync while Dovecot delivers, flags, moves and expunges on both sides, judged by Dovecot on each side.

import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf, runCli, type CliResult } from '../helpers/cli.js';
import { DOVEADM, dovecotWorkDir, type DovecotStatus } from '../helpers/dovecot.js';
import { bulkFolder, mailText, makeFolder, makeMaildir, removeDir } from '../helpers/maildir.js';
import { localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const MAILBOXES = ['Archive', 'INBOX', 'Work'] as const;
type Mailbox = (typeof MAILBOXES)[number];
type Side = 'a' | 'b';

/** Dovecot operations on each side that are expunges: a few, well below the --max-delete guard. */
const MAX_EXPUNGES = 4;
/** Operations that must end while the sync still runs, for the test to have tested anything. */
const MIN_OVERLAP = 5;

let work: string;
let config: string;
let dirs: Record<Side, string>;
/** Everything doveadm wrote on stderr: Dovecot's own complaints about what it found on disk. */
let dovecotLog: string[];

interface SeenMessage {
  uid: number;
  flags: string[];
  /** The Message-ID header: what tells one message from another across both sides. */
  id: string;
}

interface MailboxView {
  status: DovecotStatus;
  messages: SeenMessage[];
}

type SideView = Map<string, MailboxView>;

function exec(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, USER: 'root', HOME: '/tmp' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Files the test wrote as root become the mail user's, as Dovecot and mdsync (both run as that user here) expect. */
async function handToMailUser(): Promise<void> {
  const r = await exec('chown', ['-R', 'mail:mail', work]);
  if (r.code !== 0) throw new Error(`chown -R mail:mail ${work}: ${r.stderr}`);
}

/** doveadm on one side; Dovecot runs as the mail user (mail_uid in the config). */
async function dovecot(side: Side, args: string[], input?: string): Promise<string> {
  const r = await exec(DOVEADM, ['-c', config, '-o', `mail_location=maildir:${dirs[side]}`, ...args], input);
  if (r.stderr) dovecotLog.push(`${side}: doveadm ${args.slice(0, 2).join(' ')}: ${r.stderr.trim()}`);
  if (r.code !== 0) throw new Error(`doveadm ${args.join(' ')} on ${side} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const mailUid = Number(execFileSync('id', ['-u', 'mail']).toString());
const mailGid = Number(execFileSync('id', ['-g', 'mail']).toString());

/**
 * mdsync as root, as a migration runs it: what it creates in a Maildir must take the Maildir
 * owner's uid and gid, or Dovecot (running as that user) could not read it during the run.
 */
function mdsync(t: SideTransport, args: string[]): Promise<CliResult> {
  return runCli([...args, ...t.args], join(work, 'home'), { SSH_AUTH_SOCK: '' });
}

async function mailboxView(side: Side, mailbox: string): Promise<MailboxView> {
  const status = await dovecot(side, ['-f', 'tab', 'mailbox', 'status', 'messages uidvalidity uidnext', mailbox]);
  const [head, values] = status.trim().split('\n').map((l) => l.split('\t'));
  const get = (k: string): number => Number(values?.[head?.indexOf(k) ?? -1]);
  const out = await dovecot(side, ['-f', 'tab', 'fetch', 'uid flags hdr.message-id', 'mailbox', mailbox, 'ALL']);
  const messages = out.trim().split('\n').slice(1).filter(Boolean).map((line) => {
    const [uid, flags, id] = line.split('\t');
    return { uid: Number(uid), flags: (flags ?? '').split(' ').filter((f) => f && f !== '\\Recent').sort(), id: (id ?? '').trim() };
  });
  return { status: { messages: get('messages'), uidvalidity: get('uidvalidity'), uidnext: get('uidnext') }, messages };
}

async function sideView(side: Side): Promise<SideView> {
  const view: SideView = new Map();
  const names = (await dovecot(side, ['mailbox', 'list'])).trim().split('\n').filter(Boolean).sort();
  for (const mailbox of names) view.set(mailbox, await mailboxView(side, mailbox));
  return view;
}

const bothViews = async (): Promise<Record<Side, SideView>> => ({ a: await sideView('a'), b: await sideView('b') });

/** What each mailbox should hold once both sides agree: Message-ID → sorted flags. */
type Expected = Map<Mailbox, Map<string, string[]>>;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  dirs = { a: join(work, 'a'), b: join(work, 'b') };
  dovecotLog = [];
  await mkdir(join(work, 'home'));
  await makeMaildir(dirs.a, [bulkFolder('', 0, 120), bulkFolder('.Work', 1000, 120), bulkFolder('.Archive', 2000, 80)], ['Archive', 'Work']);
  await handToMailUser();
  // Dovecot numbers A, leaves gaps and sets flags and keywords of its own.
  await dovecot('a', ['expunge', 'mailbox', 'INBOX', 'uid', '2:3']);
  await dovecot('a', ['expunge', 'mailbox', 'Work', 'uid', '120']);
  await dovecot('a', ['flags', 'add', '\\Flagged $Label1', 'mailbox', 'INBOX', 'uid', '5:40']);
  await dovecot('a', ['flags', 'add', 'Todo', 'mailbox', 'Archive', 'uid', '1:20']);
});

afterEach(() => removeDir(work));

describe.each([localTransport, serveTransport])('two-way sync while Dovecot works on both sides ($name)', (t: SideTransport) => {
  it('ends with every delivery once, the same messages and flags on both sides, and no UID renumbered', async () => {
    const sync = (extra: string[] = []): Promise<CliResult> => mdsync(t, ['sync', ...extra, dirs.a, t.endpoint(dirs.b)]);
    const first = await sync();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // Dovecot takes B in hand; then each side gets new mail of its own (about 3 KB each) for the live run to carry.
    await sideView('b');
    await makeFolder(dirs.a, bulkFolder('', 3000, 200));
    await makeFolder(dirs.a, bulkFolder('.Work', 4000, 200));
    await makeFolder(dirs.b, bulkFolder('.Work', 5000, 200));
    await makeFolder(dirs.b, bulkFolder('.Archive', 6000, 200));
    await handToMailUser();
    const before = await bothViews();

    const expected: Expected = new Map(MAILBOXES.map((m) => [m, new Map()]));
    for (const side of ['a', 'b'] as const) {
      for (const m of MAILBOXES) for (const msg of before[side].get(m)?.messages ?? []) expected.get(m)?.set(msg.id, msg.flags);
    }
    // Messages both sides held before the run, each handed to one side's Dovecot at most once, in a fixed mixed order.
    const pool: Record<Side, { mailbox: Mailbox; id: string }[]> = { a: [], b: [] };
    const shared = MAILBOXES.flatMap((mailbox) => {
      const onB = new Set(before.b.get(mailbox)?.messages.map((m) => m.id));
      return (before.a.get(mailbox)?.messages ?? []).filter((m) => onB.has(m.id)).map((m) => ({ mailbox, id: m.id }));
    });
    const mix = (id: string): string => createHash('sha256').update(id).digest('hex');
    shared.sort((x, y) => (mix(x.id) < mix(y.id) ? -1 : 1)).forEach((m, i) => pool[i % 2 === 0 ? 'a' : 'b'].push(m));
    const uidOn = (side: Side, mailbox: Mailbox, id: string): string =>
      String(before[side].get(mailbox)?.messages.find((m) => m.id === id)?.uid);

    const delivered: { mailbox: Mailbox; id: string }[] = [];
    const movedOrExpunged = new Set<string>();
    const expunges: Record<Side, number> = { a: 0, b: 0 };
    const applyFlags = (mailbox: Mailbox, id: string, add: string[], remove: string[]): void => {
      const flags = new Set(expected.get(mailbox)?.get(id));
      for (const f of add) flags.add(f);
      for (const f of remove) flags.delete(f);
      expected.get(mailbox)?.set(id, [...flags].sort());
    };

    /** One Dovecot operation on one side, and what it means for the end state. */
    async function operate(i: number): Promise<void> {
      const side: Side = i % 2 === 0 ? 'a' : 'b';
      const mailbox = MAILBOXES[Math.floor(i / 2) % 3] as Mailbox;
      const kind = Math.floor(i / 2) % 6;
      const target = kind % 2 === 0 ? undefined : pool[side].shift();
      if (!target) {
        const id = `live-${side}-${mailbox}-${i}`;
        await dovecot(side, ['save', '-m', mailbox], mailText(id));
        delivered.push({ mailbox, id: `<${id}@example.org>` });
        expected.get(mailbox)?.set(`<${id}@example.org>`, []);
        return;
      }
      const uid = uidOn(side, target.mailbox, target.id);
      const query = ['mailbox', target.mailbox, 'uid', uid];
      if (kind === 1) {
        const add = i % 4 === 1 ? ['\\Flagged', '$Label2'] : ['\\Answered', 'Later'];
        await dovecot(side, ['flags', 'add', add.join(' '), ...query]);
        applyFlags(target.mailbox, target.id, add, []);
      } else if (kind === 3) {
        const remove = ['\\Seen', '$Label1', 'Todo'];
        await dovecot(side, ['flags', 'remove', remove.join(' '), ...query]);
        applyFlags(target.mailbox, target.id, [], remove);
      } else if (expunges[side] < MAX_EXPUNGES && i % 4 === 1) {
        await dovecot(side, ['expunge', ...query]);
        expunges[side]++;
        movedOrExpunged.add(target.id);
        expected.get(target.mailbox)?.delete(target.id);
      } else {
        const to = MAILBOXES[(MAILBOXES.indexOf(target.mailbox) + 1) % 3] as Mailbox;
        await dovecot(side, ['move', to, ...query]);
        movedOrExpunged.add(target.id);
        expected.get(to)?.set(target.id, expected.get(target.mailbox)?.get(target.id) ?? []);
        expected.get(target.mailbox)?.delete(target.id);
      }
    }

    let running = true;
    const started = Date.now();
    const run = sync().finally(() => {
      running = false;
    });
    let overlapped = 0;
    // One doveadm at a time, alternating sides, as users' clients would; those that end before the run does overlapped it.
    for (let i = 0; running || i < 12; i++) {
      await operate(i);
      if (running) overlapped++;
    }
    const live = await run;
    const seconds = (Date.now() - started) / 1000;
    expect(overlapped, `Dovecot operations done while the sync ran (${seconds} s)`).toBeGreaterThanOrEqual(MIN_OVERLAP);
    expect([0, 2], live.stderr).toContain(live.code);
    expect(live.stderr).not.toContain('    at ');

    const second = await sync();
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const after = await bothViews();

    // Soft: one run shows every folder and side that went wrong, not just the first.
    for (const side of ['a', 'b'] as const) expect.soft([...after[side].keys()].sort(), side).toEqual([...MAILBOXES]);
    for (const mailbox of MAILBOXES) {
      const want = expected.get(mailbox) as Map<string, string[]>;
      for (const side of ['a', 'b'] as const) {
        const now = after[side].get(mailbox) as MailboxView;
        // A sorted list, not a set: a duplicate shows as an extra entry.
        expect.soft(now.messages.map((m) => m.id).sort(), `${side} ${mailbox}: Message-IDs`).toEqual([...want.keys()].sort());
        expect.soft(Object.fromEntries(now.messages.map((m) => [m.id, m.flags])), `${side} ${mailbox}: flags and keywords`).toEqual(Object.fromEntries(want));
        // Dovecot's UIDs on a side are its own: none renumbered, every newcomer above the old UIDNEXT.
        const was = before[side].get(mailbox) as MailboxView;
        expect.soft(now.status.uidvalidity, `${side} ${mailbox}: UIDVALIDITY`).toBe(was.status.uidvalidity);
        const byUid = new Map(now.messages.map((m) => [m.uid, m.id]));
        const kept = was.messages.filter((m) => !movedOrExpunged.has(m.id));
        expect.soft(kept.map((m) => [m.uid, byUid.get(m.uid)]), `${side} ${mailbox}: UIDs of messages that stayed`).toEqual(kept.map((m) => [m.uid, m.id]));
        const known = new Set(kept.map((m) => m.id));
        const low = now.messages.filter((m) => !known.has(m.id) && m.uid < was.status.uidnext).map((m) => [m.uid, m.id]);
        expect.soft(low, `${side} ${mailbox}: new messages numbered below UIDNEXT ${was.status.uidnext}`).toEqual([]);
      }
    }
    for (const { mailbox, id } of delivered) {
      for (const side of ['a', 'b'] as const) {
        expect.soft(after[side].get(mailbox)?.messages.filter((m) => m.id === id), `${id} on ${side}`).toHaveLength(1);
      }
    }
    expect(dovecotLog.filter((l) => /Error|Panic|Fatal|reappeared|Duplicate/i.test(l))).toEqual([]);

    const again = await sync(['--json']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(jsonOf(again).bytes).toBe(0);
    expect(Object.entries(jsonOf(again).summary).filter(([, n]) => n.a !== 0 || n.b !== 0)).toEqual([]);
    expect(await bothViews()).toEqual(after);
    // Everything in both Maildirs belongs to their owner, though mdsync ran as root.
    for (const side of ['a', 'b'] as const) {
      const foreign = execFileSync('find', [dirs[side], '(', '-not', '-uid', String(mailUid), '-o', '-not', '-gid', String(mailGid), ')', '-print']).toString();
      expect(foreign, `${side}: files not owned by the mail user`).toBe('');
    }
  });
});
