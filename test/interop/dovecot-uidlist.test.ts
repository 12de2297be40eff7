// dovecot-uidlist as mdsync writes it, read by Dovecot itself: the UIDs, UIDVALIDITY and UIDNEXT it reports.

import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseUidlist } from '../../src/local/uidlist.js';
import { writeUidlist } from '../../src/local/uidlist-write.js';
import { runCli } from '../helpers/cli.js';
import { doveadm, dovecotWorkDir, fetchMessages, mailboxStatus } from '../helpers/dovecot.js';
import { makeMaildir, message, removeDir } from '../helpers/maildir.js';

let work: string;
let config: string;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
});

afterEach(() => removeDir(work));

const bases = ['1600000001.M1P1.host', '1600000002.M2P1.host', '1600000003.M3P1.host'];

describe('a uidlist written by mdsync, read by Dovecot', () => {
  it('gives each message the UID we wrote, with our UIDVALIDITY and UIDNEXT', async () => {
    const root = join(work, 'm');
    await makeMaildir(root, [{ dir: '', messages: bases.map((b, i) => message(b, `m${i}`, { flags: 'S' })) }]);
    // The base name is the file name before its info (the helper adds ,S=<size> to it).
    const onDisk = (await readdir(join(root, 'cur'))).map((n) => n.slice(0, n.indexOf(':2,'))).sort();
    const uids = [10, 20, 35];
    await writeUidlist(root, {
      version: 3, uidValidity: 1234567, nextUid: 50, headerExtra: [],
      records: new Map(onDisk.map((b, i) => [b, { uid: uids[i] as number, fields: [] }])),
    }, 'INBOX');
    expect(await mailboxStatus(config, root, 'INBOX')).toEqual({ messages: 3, uidvalidity: 1234567, uidnext: 50 });
    expect((await fetchMessages(config, root, 'INBOX')).map((m) => [m.uid, m.guid])).toEqual(onDisk.map((b, i) => [uids[i], b]));
  });

  it('round-trips what Dovecot wrote, after expunges, exactly', async () => {
    const root = join(work, 'm');
    await makeMaildir(root, [{ dir: '', messages: bases.map((b, i) => message(b, `m${i}`, { flags: 'S' })) }]);
    await doveadm(config, root, ['expunge', 'mailbox', 'INBOX', 'uid', '2']);
    const before = await mailboxStatus(config, root, 'INBOX');
    const path = join(root, 'dovecot-uidlist');
    const written = parseUidlist(await readFile(path, 'utf8'), path);
    const mtime = (await stat(path)).mtimeMs;
    await writeUidlist(root, written, 'INBOX');
    expect((await stat(path)).mtimeMs).toBeGreaterThan(mtime);
    expect(parseUidlist(await readFile(path, 'utf8'), path)).toEqual(written);
    expect(await mailboxStatus(config, root, 'INBOX')).toEqual(before);
    expect((await fetchMessages(config, root, 'INBOX')).map((m) => m.uid)).toEqual([1, 3]);
  });

  it('a header whose NEXTUID lags its records (Dovecot writes records first) gives the replica UIDNEXT past the highest UID', async () => {
    const src = join(work, 'src');
    const dst = join(work, 'dst');
    await makeMaildir(src, [{ dir: '', messages: bases.map((b, i) => message(b, `m${i}`, { flags: 'S' })) }]);
    const onDisk = (await readdir(join(src, 'cur'))).map((n) => n.slice(0, n.indexOf(':2,'))).sort();
    await writeFile(join(src, 'dovecot-uidlist'), `3 V77 N2\n${onDisk.map((b, i) => `${i + 1} :${b}\n`).join('')}`);
    const r = await runCli(['backup', src, dst], work);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await readFile(join(dst, 'dovecot-uidlist'), 'utf8')).split('\n')[0]).toBe('3 V77 N4');
    expect(await mailboxStatus(config, dst, 'INBOX')).toEqual({ messages: 3, uidvalidity: 77, uidnext: 4 });
    expect(await mailboxStatus(config, dst, 'INBOX')).toEqual(await mailboxStatus(config, src, 'INBOX'));
  });

  it('Dovecot GUIDs kept in the uidlist (messages imported by dsync) and the mailbox GUID reach the replica', async () => {
    const src = join(work, 'src');
    const dst = join(work, 'dst');
    await makeMaildir(src, [{ dir: '', messages: bases.map((b, i) => message(b, `m${i}`, { flags: 'S' })) }]);
    const onDisk = (await readdir(join(src, 'cur'))).map((n) => n.slice(0, n.indexOf(':2,'))).sort();
    const imported = ['0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'];
    const mailboxGuid = 'aabbccddeeff00112233445566778899';
    await writeFile(join(src, 'dovecot-uidlist'), `3 V99 N9 G${mailboxGuid}\n` +
      `4 G${imported[0]} :${onDisk[0]}\n5 :${onDisk[1]}\n7 G${imported[1]} :${onDisk[2]}\n`);
    const seen = await fetchMessages(config, src, 'INBOX');
    expect(seen.map((m) => [m.uid, m.guid])).toEqual([[4, imported[0]], [5, onDisk[1]], [7, imported[1]]]);

    const r = await runCli(['backup', src, dst], work);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await fetchMessages(config, dst, 'INBOX')).toEqual(seen);
    const guidOf = async (root: string): Promise<string> => (await doveadm(config, root, ['mailbox', 'status', 'guid', 'INBOX'])).trim();
    expect(await guidOf(dst)).toBe(`INBOX guid=${mailboxGuid}`);
    expect(await guidOf(src)).toBe(`INBOX guid=${mailboxGuid}`);
    expect((await runCli(['verify', '--uids', src, dst], work)).code).toBe(0);
  });

  it('waits for a live dovecot-uidlist.lock and takes over one left by a dead process', async () => {
    const root = join(work, 'm');
    await makeMaildir(root, [{ dir: '', messages: [] }]);
    const list = { version: 3, uidValidity: 7, nextUid: 1, headerExtra: [], records: new Map() };
    await writeFile(join(root, 'dovecot-uidlist.lock'), `2147483646:${hostname()}\n`);
    await writeUidlist(root, list, 'INBOX');
    expect(await readFile(join(root, 'dovecot-uidlist'), 'utf8')).toBe('3 V7 N1\n');
  });
});
