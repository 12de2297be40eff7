// Maildir++ → fs → Maildir++ judged by Dovecot: folders (modified UTF-7, a space, nesting), subscriptions, UIDs.

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { doveadm, dovecotWorkDir, fetchMessages, fsLayout, mailboxList, mailboxStatus } from '../helpers/dovecot.js';
import { makeMaildir, message, removeDir } from '../helpers/maildir.js';

let work: string;
let config: string;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
});

afterEach(() => removeDir(work));

const FOLDERS = ['INBOX', 'Archive', 'Archive/2024', 'Straße', 'Tom & Jerry', 'Work Items', 'Work Items/Q1'];

describe('layout translation judged by Dovecot', () => {
  it('Maildir++ → fs → Maildir++ keeps folders, subscriptions, messages, flags and UIDs', async () => {
    const src = join(work, 'src');
    const fs = join(work, 'fs');
    const back = join(work, 'back');
    await makeMaildir(src, [
      { dir: '', messages: [message('1600000001.M1P1.host', 'inbox', { flags: 'S' })] },
      { dir: '.Archive', messages: [message('1600000002.M2P1.host', 'archive', { flags: 'S' })] },
      { dir: '.Archive.2024', messages: [message('1600000003.M3P1.host', 'nested', { flags: 'FS' })] },
      { dir: '.Stra&AN8-e', messages: [message('1600000004.M4P1.host', 'utf7', {})] },
      { dir: '.Tom &- Jerry', messages: [message('1600000005.M5P1.host', 'amp space', { flags: 'S' })] },
      { dir: '.Work Items', messages: [] },
      { dir: '.Work Items.Q1', messages: [message('1600000006.M6P1.host', 'q1', { flags: 'RS' })] },
    ], ['Archive', 'Straße', 'Work Items/Q1']);
    // Dovecot numbers everything and takes a keyword; the source then holds uidlists.
    await doveadm(config, src, ['flags', 'add', '$Important', 'mailbox', 'Archive/2024', 'uid', '1']);
    for (const f of FOLDERS) await mailboxStatus(config, src, f);
    expect((await mailboxList(config, src)).all).toEqual(FOLDERS.slice().sort());

    expect((await runCli(['backup', '--layout', 'fs', src, fs], work)).code).toBe(0);
    expect((await runCli(['backup', '--layout', 'maildir++', fs, back], work)).code).toBe(0);

    const lists = await Promise.all([mailboxList(config, src), mailboxList(config, fsLayout(fs)), mailboxList(config, back)]);
    expect(lists[1]).toEqual(lists[0]);
    expect(lists[2]).toEqual(lists[0]);
    expect(lists[0].subscribed).toEqual(['Archive', 'Straße', 'Work Items/Q1']);
    for (const f of FOLDERS) {
      const want = { status: await mailboxStatus(config, src, f), messages: await fetchMessages(config, src, f) };
      for (const location of [fsLayout(fs), back]) {
        expect({ status: await mailboxStatus(config, location, f), messages: await fetchMessages(config, location, f) }, `${location} ${f}`).toEqual(want);
      }
    }
    expect((await runCli(['verify', '--uids', src, back], work)).code).toBe(0);
  });
});
