// `verify --uids`: UIDVALIDITY and every UID compared too, on Maildirs Dovecot has indexed.

import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseUidlist } from '../../src/local/uidlist.js';
import { writeUidlist } from '../../src/local/uidlist-write.js';
import { runCli } from '../helpers/cli.js';
import { doveadm, dovecotWorkDir } from '../helpers/dovecot.js';
import { makeMaildir, message, removeDir } from '../helpers/maildir.js';

let work: string;
let config: string;
let src: string;
let copy: string;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  src = join(work, 'src');
  copy = join(work, 'copy');
  await makeMaildir(src, [
    { dir: '', messages: [1, 2, 3].map((n) => message(`160000000${n}.M${n}P1.host`, `inbox ${n}`, { flags: 'S' })) },
    { dir: '.Work', messages: [message('1600000009.M9P1.host', 'work', { flags: 'S' })] },
  ]);
  // Dovecot gives the messages their UIDs, then loses one: UIDs 1 and 3 remain in INBOX.
  await doveadm(config, src, ['expunge', 'mailbox', 'INBOX', 'uid', '2']);
  await doveadm(config, src, ['mailbox', 'status', 'messages', 'Work']);
  execFileSync('cp', ['-a', src, copy]);
});

afterEach(() => removeDir(work));

describe('verify --uids', () => {
  it('finds an exact copy identical, UIDs included', async () => {
    const r = await runCli(['verify', '--uids', src, copy], work);
    expect(r.stdout).toBe('identical: 2 folders, 3 messages\n');
    expect(r.code).toBe(0);
  });

  it('reports a different UIDVALIDITY and renumbered UIDs, which plain verify ignores', async () => {
    const path = join(copy, 'dovecot-uidlist');
    const list = parseUidlist(await readFile(path, 'utf8'), path);
    const renumbered = new Map([...list.records].map(([base, r]) => [base, { ...r, uid: r.uid + 100 }]));
    await writeUidlist(copy, { ...list, uidValidity: list.uidValidity + 1, nextUid: list.nextUid + 100, records: renumbered }, 'INBOX');
    const r = await runCli(['verify', '--uids', src, copy], work);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`INBOX: UIDVALIDITY ${list.uidValidity} ≠ ${list.uidValidity + 1}`);
    expect(r.stdout).toMatch(/INBOX: 1600000001\.M1P1\.host,S=\d+: UID 1 ≠ 101/);
    expect(r.stdout).toMatch(/INBOX: 1600000003\.M3P1\.host,S=\d+: UID 3 ≠ 103/);
    expect(r.stdout).toContain('3 differences');
    expect((await runCli(['verify', src, copy], work)).code).toBe(0);
  });
});
