// A run that copies mail into one folder and then fails in another (exit 1) records the copies it
// made: when the origin then expunges or moves those messages, the next run does the same on the
// other side (before, they came back as new mail: expunged mail returned, moved mail was doubled).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addMessage, contentsByFolder, fileName, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { runCli } from '../helpers/cli.js';
import { cliVia, localTransport, serveTransport } from '../helpers/transports.js';

let work: string;
const frozen: string[] = [];

const sha = (body: string): string => createHash('sha256').update(body).digest('hex');

function chattr(flag: '+i' | '-i', dir: string): void {
  execFileSync('chattr', [flag, dir]);
}

beforeEach(async () => {
  // On the disk's own filesystem (ext4 here), where chattr +i works.
  work = await tempDir();
});

afterEach(async () => {
  // Undone first, or the tree cannot be removed.
  for (const dir of frozen.splice(0)) chattr('-i', dir);
  await removeDir(work);
});

const old = message('1600000001.M1P1.host', 'old');
const sent = message('1600000002.M2P1.host', 'sent before');
const gone = message('1600000011.M11P1.host', 'expunged after the failed run', { location: 'new' });
const moved = message('1600000012.M12P1.host', 'moved after the failed run', { location: 'new' });
const late = message('1600000013.M13P1.host', 'sent, could not be copied', { location: 'new' });

describe.each([localTransport, serveTransport])('copies of a run that failed, second side $name', (transport) => {
  it.each([['sync', []], ['sync --one-way', ['--one-way']]] as const)('are recorded: %s, then an expunge and a move on the origin are repeated, never undone', async (_name, flags) => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    const cli = cliVia(transport, join(work, 'home'));
    const sync = (): ReturnType<typeof cli> => cli(['sync', ...flags, a, transport.endpoint(b)]);
    await makeMaildir(a, [{ dir: '', messages: [old] }, { dir: '.Sent', messages: [sent] }]);
    expect((await sync()).code).toBe(0);

    await addMessage(a, '', gone);
    await addMessage(a, '', moved);
    await addMessage(a, '.Sent', late);
    chattr('+i', join(b, '.Sent', 'new'));
    frozen.push(join(b, '.Sent', 'new'));
    const failed = await sync();
    expect(failed.code, failed.stderr).toBe(1);
    // INBOX was copied before the run gave up on Sent.
    expect((await contentsByFolder(b)).get('INBOX')?.length).toBe(3);
    chattr('-i', join(b, '.Sent', 'new'));
    frozen.pop();

    await rm(join(a, 'new', fileName(gone)));
    await rename(join(a, 'new', fileName(moved)), join(a, '.Sent', 'cur', `${moved.base}:2,S`));
    const next = await sync();
    expect(next.code, next.stderr).toBe(0);
    const want = new Map([['INBOX', [sha(old.body)]], ['.Sent', [late, moved, sent].map((m) => sha(m.body)).sort()]]);
    expect(await contentsByFolder(a)).toEqual(want);
    expect(await contentsByFolder(b)).toEqual(want);
    // The journal of placements is gone once a state covers it.
    expect((await readdir(join(work, 'home', 'state', 'mdsync'))).filter((n) => n.includes('.journal'))).toEqual([]);
  });
});

describe('copies of a first copy in passes that failed in a later pass', () => {
  it('are recorded: the passes before it kept their state in memory, and it is saved', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    const trash = message('1600000021.M21P1.host', 'in the trash');
    // A pass per folder, and no checkpoint saved between them (every 5 s at most).
    const sync = (): ReturnType<typeof runCli> => runCli(['sync', a, b], join(work, 'home'), { MDSYNC_PASS_MESSAGES: '1', MDSYNC_PASSES_FROM: '1' });
    await makeMaildir(a, [{ dir: '', messages: [old, gone, moved] }, { dir: '.Sent', messages: [sent, late] }, { dir: '.Trash', messages: [trash] }]);
    await makeMaildir(b, [{ dir: '', messages: [] }, { dir: '.Sent', messages: [] }, { dir: '.Trash', messages: [] }]);
    chattr('+i', join(b, '.Sent'));
    frozen.push(join(b, '.Sent'));
    const failed = await sync();
    expect(failed.code, failed.stderr).toBe(1);
    expect((await contentsByFolder(b)).get('INBOX')?.length).toBe(3);
    chattr('-i', join(b, '.Sent'));
    frozen.pop();

    await rm(join(a, 'new', fileName(gone)));
    await rename(join(a, 'new', fileName(moved)), join(a, '.Sent', 'cur', `${moved.base}:2,S`));
    const next = await sync();
    expect(next.code, next.stderr).toBe(0);
    const want = new Map([['INBOX', [sha(old.body)]], ['.Sent', [late, moved, sent].map((m) => sha(m.body)).sort()], ['.Trash', [sha(trash.body)]]]);
    expect(await contentsByFolder(a)).toEqual(want);
    expect(await contentsByFolder(b)).toEqual(want);
  });
});
