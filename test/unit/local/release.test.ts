// Folders let go of between the passes of a first copy: held only as their cache records, loaded
// again unchanged when asked for, never while written a moment ago or staged.

import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../../src/local/agent.js';
import { MaildirFolder } from '../../../src/local/folder.js';
import { bulkFolder, makeMaildir, message, removeDir, tempDir } from '../../helpers/maildir.js';

let dir: string;
let root: string;
beforeEach(async () => {
  dir = await tempDir();
  root = join(dir, 'Maildir');
  await makeMaildir(root, [
    {
      dir: '',
      keywords: ['$Label1', 'todo'],
      messages: [
        message('m1', 's1', { flags: 'S', letters: 'a' }),
        message('m2', 's2', { location: 'new' }),
        message('m3', 's3', { flags: 'FS', letters: 'ab' }),
      ],
    },
    bulkFolder('.Work', 100, 40),
    { dir: '.Empty', messages: [] },
  ]);
  // Written long enough ago that a listing of them is settled (whole-second filesystems included).
  const past = new Date(Date.now() - 10_000);
  for (const sub of ['', '.Work', '.Empty']) for (const d of ['cur', 'new']) await utimes(join(root, sub, d), past, past);
});
afterEach(async () => removeDir(dir));

const events = { warn: (): void => undefined, raced: (): void => undefined };
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a folder let go of', () => {
  it('is held as its cache record and gives the same summary and manifest when loaded again', async () => {
    const folder = new MaildirFolder('INBOX', root, ':', events);
    const summary = await folder.summary(undefined);
    const manifest = await folder.manifest();
    const record = await folder.release();
    expect(record?.settled).toBe(true);
    expect(record?.count).toBe(3);
    expect(record?.digest).toBe(summary.digest);
    expect(await folder.manifest()).toEqual(manifest);
    expect(await folder.summary(record)).toEqual(summary);
    // Let go of again: nothing more to do, the same record.
    expect(await folder.release()).toEqual(record);
  });

  it('stays loaded while written a moment ago, and is let go of with what was written once settled', async () => {
    const folder = new MaildirFolder('INBOX', root, ':', events);
    await folder.summary(undefined);
    const body = Buffer.from('Subject: new\r\n\r\nnew\r\n');
    const [placed] = await folder.deliver([{ guid: 'm9', data: body, mtime: Date.parse('2021-01-01T00:00:00Z'), flags: 'S', keywords: ['todo'], location: 'cur' }]);
    expect(placed?.existed).toBe(false);
    // Listed now, a directory changed this instant could change again unseen in the same tick.
    expect(await folder.release()).toBeUndefined();
    expect((await folder.manifest()).messages.map((e) => e.guid)).toContain('m9');
    await delay(100);
    // Settled by now where mtimes have nanoseconds (a whole-second filesystem waits for close()).
    const record = await folder.release();
    expect(record?.count).toBe(4);
    const again = await folder.manifest();
    expect(again.messages.find((e) => e.guid === 'm9')).toMatchObject({ flags: 'S', keywords: ['todo'], location: 'cur' });
    expect(again.digest).toBe(record?.digest);
  });

  it('never while it is staged (built aside until published)', async () => {
    const agent = await LocalAgent.open(root, { cacheDir: join(dir, 'cache') });
    try {
      await agent.createFolder('Fresh', { staged: true });
      await agent.deliver('Fresh', [{ guid: 'f1', data: Buffer.from('Subject: f\r\n\r\nf\r\n'), mtime: Date.now(), flags: '', keywords: [], location: 'new' }]);
      await delay(100);
      await agent.release(['Fresh']);
      await agent.publishFolder('Fresh');
      expect(await readdir(join(root, '.Fresh', 'new'))).toHaveLength(1);
      expect((await agent.manifest('Fresh')).messages.map((e) => e.guid)).toEqual(['f1']);
    } finally {
      await agent.close();
    }
  });
});

describe('a listing that lets go of folders', () => {
  it('sums them up as any listing does, and each manifest is the same loaded again', async () => {
    const plain = await LocalAgent.open(root, { cacheDir: join(dir, 'plain') });
    const lean = await LocalAgent.open(root, { cacheDir: join(dir, 'lean') });
    try {
      const expected = await plain.listFolders();
      // Nothing kept: every folder let go of as soon as summed up.
      expect(await lean.listFolders({ release: { keep: 0 } })).toEqual(expected);
      for (const f of expected.folders) expect(await lean.manifest(f.name), f.name).toEqual(await plain.manifest(f.name));
    } finally {
      await lean.close();
      await plain.close();
    }
  });

  it('keeps a folder that can tell what changed since its cached listing (a run with a state asks it)', async () => {
    const cacheDir = join(dir, 'cache');
    const first = await LocalAgent.open(root, { cacheDir });
    const before = await first.listFolders();
    await first.close();
    const digest = (list: typeof before, name: string): string => list.folders.find((f) => f.name === name)?.digest as string;
    // A message delivered into Work since: listed against its cache record, Work can tell only that.
    await makeMaildir(root, [{ dir: '.Work', messages: [message('w1', 'arrived since')] }]);
    const past = new Date(Date.now() - 5_000);
    for (const d of ['cur', 'new']) await utimes(join(root, '.Work', d), past, past);
    const agent = await LocalAgent.open(root, { cacheDir });
    try {
      const list = await agent.listFolders({ release: { keep: 0 } });
      expect(list.folders.find((f) => f.name === 'Work')?.messages).toBe(41);
      const changes = await agent.changes('Work', digest(before, 'Work'));
      expect(changes?.gone).toEqual([]);
      expect(changes?.changed.map((e) => e.guid.split(',')[0])).toEqual(['w1']);
      // INBOX, unchanged, was summed up from its record: nothing to tell (a run takes the state's records).
      expect(await agent.changes('INBOX', digest(before, 'INBOX'))).toBeUndefined();
    } finally {
      await agent.close();
    }
  });

  it('sums up only the folders asked for', async () => {
    const agent = await LocalAgent.open(root, { cacheDir: join(dir, 'cache') });
    try {
      const list = await agent.listFolders({ folders: ['Work', 'Nowhere'] });
      expect(list.folders.map((f) => [f.name, f.messages])).toEqual([['Work', 40]]);
    } finally {
      await agent.close();
    }
  });
});
