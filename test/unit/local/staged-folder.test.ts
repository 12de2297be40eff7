// A folder new to a Maildir that a run fills is built aside in the root's tmp/ and published whole:
// never seen half full, merged into a folder that took its name meanwhile without overwriting
// anything, published when a failed run lets go of the Maildir, and removed when a killed run left it.
// The new/ and cur/ of a folder holding no message (INBOX, the fs layout, a folder Dovecot made)
// likewise: put in place of the empty ones, merged into one a delivery came to meanwhile.

import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../../src/local/agent.js';
import type { Delivery } from '../../../src/model.js';
import { fileName, makeFolder, makeMaildir, message, readTree, removeDir, tempDir } from '../../helpers/maildir.js';

let dir: string;
let root: string;

beforeEach(async () => {
  dir = await tempDir();
  root = join(dir, 'Maildir');
  await makeMaildir(root, [{ dir: '', messages: [] }]);
});
afterEach(async () => removeDir(dir));

const MTIME = Date.UTC(2019, 4, 1, 12, 30, 15, 250);

function delivery(n: number, extra: Partial<Delivery> = {}): Delivery {
  return { guid: `1557000000.M${n}P1.host`, data: Buffer.from(`Subject: message ${n}\r\n\r\nbody ${n}\r\n`), mtime: MTIME + n, flags: 'S', keywords: [], location: 'cur', ...extra };
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/** The message files under a folder directory: path below it, bytes, mtime. */
async function filesOf(folderDir: string): Promise<{ path: string; body: string; mtimeMs: number }[]> {
  const out = [];
  for (const f of await readTree(folderDir)) {
    if (!/^(cur|new)\//.test(f.path)) continue;
    out.push({ path: f.path, body: await readFile(join(folderDir, f.path), 'utf8'), mtimeMs: f.mtimeMs });
  }
  return out.sort((x, y) => x.path.localeCompare(y.path));
}

/** A folder another program creates while the run stages its own of that name. */
async function createdMeanwhile(folderDir: string): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, folderDir, sub), { recursive: true });
}

async function openLocked(options: Parameters<typeof LocalAgent.open>[1] = {}): Promise<LocalAgent> {
  const agent = await LocalAgent.open(root, { cacheDir: join(dir, 'cache'), ...options });
  await agent.lock();
  await agent.listFolders();
  return agent;
}

describe('a staged folder', () => {
  it('is built in tmp/, unseen, and appears whole when published, every byte and date kept', async () => {
    const agent = await openLocked();
    try {
      await agent.createFolder('Work', { staged: true });
      const placed = await agent.deliver('Work', [delivery(1), delivery(2, { keywords: ['Todo'], flags: 'FS' }), delivery(3, { location: 'new', flags: '' })]);
      expect(placed.map((p) => p.existed)).toEqual([false, false, false]);
      // Written, fsynced, and still nowhere a reader looks.
      expect(await exists(join(root, '.Work'))).toBe(false);
      const staging = await readdir(join(root, 'tmp'));
      expect(staging).toHaveLength(1);
      expect(staging[0]).toMatch(new RegExp(`\\.mdsync-${process.pid}@`));
      // A checkpoint's commit while the folder is staged.
      await agent.commit();

      await agent.publishFolder('Work');
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      expect(await exists(join(root, '.Work', 'maildirfolder'))).toBe(true);
      expect(await readFile(join(root, '.Work', 'dovecot-keywords'), 'utf8')).toBe('0 Todo\n');
      expect(await filesOf(join(root, '.Work'))).toEqual([
        { path: 'cur/1557000000.M1P1.host:2,S', body: 'Subject: message 1\r\n\r\nbody 1\r\n', mtimeMs: MTIME + 1 },
        { path: 'cur/1557000000.M2P1.host:2,FSa', body: 'Subject: message 2\r\n\r\nbody 2\r\n', mtimeMs: MTIME + 2 },
        { path: 'new/1557000000.M3P1.host', body: 'Subject: message 3\r\n\r\nbody 3\r\n', mtimeMs: MTIME + 3 },
      ]);
      await agent.commit();
      expect((await agent.manifest('Work')).messages.map((m) => [m.guid, m.flags, m.keywords])).toEqual([
        ['1557000000.M1P1.host', 'S', []], ['1557000000.M2P1.host', 'FS', ['Todo']], ['1557000000.M3P1.host', '', []],
      ]);
      expect((await agent.drainWarnings()).raced).toBe(false);
    } finally {
      await agent.close();
    }
  });

  it('is linked into a folder that took its name meanwhile (Dovecot creating it for a client), nothing of it overwritten', async () => {
    const agent = await openLocked();
    try {
      await agent.createFolder('Sent', { staged: true });
      await agent.deliver('Sent', [delivery(1), delivery(2, { keywords: ['Todo'] })]);
      await createdMeanwhile('.Sent');
      await writeFile(join(root, '.Sent', 'dovecot-uidlist'), '3 V1600000000 N1 G0123456789abcdef\n');
      await writeFile(join(root, '.Sent', 'cur', '1557000000.M9P9.other:2,S'), 'theirs');
      await agent.publishFolder('Sent');
      expect((await filesOf(join(root, '.Sent'))).map((f) => [f.path, f.body])).toEqual([
        ['cur/1557000000.M1P1.host:2,S', 'Subject: message 1\r\n\r\nbody 1\r\n'],
        ['cur/1557000000.M2P1.host:2,Sa', 'Subject: message 2\r\n\r\nbody 2\r\n'],
        ['cur/1557000000.M9P9.other:2,S', 'theirs'],
      ]);
      expect(await readFile(join(root, '.Sent', 'dovecot-uidlist'), 'utf8')).toBe('3 V1600000000 N1 G0123456789abcdef\n');
      expect(await readFile(join(root, '.Sent', 'dovecot-keywords'), 'utf8')).toBe('0 Todo\n');
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      expect((await agent.drainWarnings()).raced).toBe(true);
    } finally {
      await agent.close();
    }
  });

  it('links nothing twice into a folder that took its name: a message already there under other flags stays as it is, once', async () => {
    const agent = await openLocked();
    try {
      await agent.createFolder('Sent', { staged: true });
      const one = delivery(1);
      await agent.deliver('Sent', [one, delivery(2)]);
      await createdMeanwhile('.Sent');
      await writeFile(join(root, '.Sent', 'cur', '1557000000.M1P1.host:2,FS'), one.data as Buffer);
      await agent.publishFolder('Sent');
      expect((await filesOf(join(root, '.Sent'))).map((f) => f.path)).toEqual(['cur/1557000000.M1P1.host:2,FS', 'cur/1557000000.M2P1.host:2,S']);

      // The same name there holding other bytes: nothing linked, the run told to go again.
      await agent.createFolder('Drafts', { staged: true });
      await agent.deliver('Drafts', [delivery(3)]);
      await createdMeanwhile('.Drafts');
      await writeFile(join(root, '.Drafts', 'new', '1557000000.M3P1.host'), 'other bytes');
      const failed = await agent.publishFolder('Drafts').then(() => undefined, (err: unknown) => err as { code?: string; message: string });
      expect(failed?.code).toBe('CHANGED_DURING_RUN');
      expect(failed?.message).toContain(`${join(root, '.Drafts', 'new', '1557000000.M3P1.host')} holding another message`);
      expect((await filesOf(join(root, '.Drafts'))).map((f) => [f.path, f.body])).toEqual([['new/1557000000.M3P1.host', 'other bytes']]);
    } finally {
      await agent.close();
    }
  });

  it('stops, overwriting nothing, where that folder gives its keyword letters other names, and is removed when the run lets go', async () => {
    const agent = await openLocked();
    try {
      await agent.createFolder('Sent', { staged: true });
      await agent.deliver('Sent', [delivery(1, { keywords: ['Todo'] })]);
      await createdMeanwhile('.Sent');
      await writeFile(join(root, '.Sent', 'dovecot-keywords'), '0 $Junk\n');
      const failed = await agent.publishFolder('Sent').then(() => undefined, (err: unknown) => err as { code?: string; message: string });
      expect(failed?.code).toBe('CHANGED_DURING_RUN');
      expect(failed?.message).toContain(`${join(root, '.Sent')}: folder Sent was created by another program while it was being copied`);
      expect(await readFile(join(root, '.Sent', 'dovecot-keywords'), 'utf8')).toBe('0 $Junk\n');
      expect(await filesOf(join(root, '.Sent'))).toEqual([]);
      await agent.unlock();
      // Its copies are gone (their source has them), the other folder is as it was.
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      expect(await filesOf(join(root, '.Sent'))).toEqual([]);
      const { warnings } = await agent.drainWarnings();
      expect(warnings.map((w) => w.message).join('\n')).toContain('folder Sent was not published');
    } finally {
      await agent.close();
    }
  });

  it('writes nothing through a folder that took its name with a cur/ leading out of the Maildir', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside);
    const agent = await openLocked();
    try {
      await agent.createFolder('Sent', { staged: true });
      await agent.deliver('Sent', [delivery(1)]);
      await mkdir(join(root, '.Sent'));
      await symlink(outside, join(root, '.Sent', 'cur'));
      const failed = await agent.publishFolder('Sent').then(() => undefined, (err: unknown) => err as { code?: string; message: string });
      expect(failed?.code).toBe('BAD_FOLDER');
      expect(failed?.message).toContain(`${join(root, '.Sent', 'cur')} leads outside the Maildir`);
      await agent.unlock();
      expect(await readdir(outside)).toEqual([]);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('takes every delivery asked for around its publication, each whole, in the folder once it is in place', async () => {
    const agent = await openLocked();
    try {
      await agent.createFolder('Work', { staged: true });
      const pending = agent.deliver('Work', [delivery(1), delivery(2), delivery(3)]);
      const published = agent.publishFolder('Work');
      // A delivery asked for while the folder is being published waits, then goes to the folder in place.
      const later = agent.deliver('Work', [delivery(4)]);
      await Promise.all([pending, published, later]);
      expect((await pending).map((p) => p.existed)).toEqual([false, false, false]);
      expect((await filesOf(join(root, '.Work'))).map((f) => [f.path, f.body])).toEqual([1, 2, 3, 4].map((n) => [`cur/1557000000.M${n}P1.host:2,S`, `Subject: message ${n}\r\n\r\nbody ${n}\r\n`]));
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      expect(await readdir(join(root, '.Work', 'tmp'))).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('is published as it is when a run that failed lets go of the Maildir', async () => {
    const agent = await openLocked();
    try {
      await agent.createFolder('Work', { staged: true });
      await agent.deliver('Work', [delivery(1), delivery(2)]);
      await agent.unlock();
      expect((await filesOf(join(root, '.Work'))).map((f) => f.path)).toEqual(['cur/1557000000.M1P1.host:2,S', 'cur/1557000000.M2P1.host:2,S']);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('left by a killed run is removed by the next run', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    const left = join(root, 'tmp', `1557000000.F1.mdsync-${dead}@${hostname()}`);
    await mkdir(join(left, 'cur'), { recursive: true });
    await writeFile(join(left, 'cur', '1557000000.M1P1.host:2,S'), 'half');
    await writeFile(join(root, 'mdsync.lock'), `${dead}:${hostname()}\n`);
    const agent = await openLocked();
    try {
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      const { warnings } = await agent.drainWarnings();
      expect(warnings.map((w) => w.message)).toContain('removed 1 temporary file left by an interrupted run');
    } finally {
      await agent.close();
    }
  });

  it('left by a killed run goes, but never a mail folder or any other directory bearing a killed run\'s tag', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    const tag = `mdsync-${dead}@${hostname()}`;
    // A folder whose name ends like a temp file's, one inside tmp/ not named as a staged folder is, and a staged one.
    const kept = message('1557000000.M7P1.host', 'kept');
    await makeFolder(root, { dir: `.${tag}`, messages: [kept] });
    await mkdir(join(root, 'tmp', `notes.${tag}`));
    await mkdir(join(root, 'tmp', `1557000000.F3.${tag}`, 'cur'), { recursive: true });
    await writeFile(join(root, 'mdsync.lock'), `${dead}:${hostname()}\n`);
    const agent = await openLocked();
    try {
      expect((await readTree(join(root, `.${tag}`))).map((f) => f.path)).toEqual([`cur/${fileName(kept)}`, 'maildirfolder']);
      expect(await readdir(join(root, 'tmp'))).toEqual([`notes.${tag}`]);
    } finally {
      await agent.close();
    }
  });

  it('in the fs layout, where a folder may hold other folders, is created in place with its new/ and cur/ built aside', async () => {
    const agent = await openLocked({ layout: 'fs' });
    try {
      await agent.createFolder('Work', { staged: true });
      await agent.createFolder('Work/Q1', { staged: true });
      expect(await exists(join(root, 'Work', 'cur'))).toBe(true);
      await agent.deliver('Work', [delivery(1)]);
      await agent.deliver('Work/Q1', [delivery(2)]);
      expect(await filesOf(join(root, 'Work'))).toEqual([]);
      await agent.publishFolder('Work');
      await agent.publishFolder('Work/Q1');
      expect((await filesOf(join(root, 'Work'))).map((f) => f.path)).toEqual(['cur/1557000000.M1P1.host:2,S']);
      expect((await filesOf(join(root, 'Work', 'Q1'))).map((f) => f.path)).toEqual(['cur/1557000000.M2P1.host:2,S']);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      await agent.close();
    }
  });
});

describe('the new/ and cur/ of a folder holding no message', () => {
  it('are built aside and put in place of the empty ones: unseen until then, every byte, date and mode kept', async () => {
    await makeFolder(root, { dir: '.Sent', messages: [] });
    // A shared folder's group and mode, as Dovecot made them.
    await chmod(join(root, '.Sent', 'cur'), 0o2770);
    await chmod(join(root, '.Sent', 'new'), 0o2750);
    const agent = await openLocked();
    try {
      expect(await agent.stageFolder('INBOX')).toBe(true);
      expect(await agent.stageFolder('Sent')).toBe(true);
      // Staged once.
      expect(await agent.stageFolder('Sent')).toBe(false);
      await agent.deliver('INBOX', [delivery(1), delivery(2, { location: 'new', flags: '' })]);
      await agent.deliver('Sent', [delivery(3, { keywords: ['Todo'], flags: 'FS' })]);
      expect(await filesOf(root)).toEqual([]);
      expect(await filesOf(join(root, '.Sent'))).toEqual([]);
      // The folder's control files stay where they are: its keywords are named there at once.
      expect(await readFile(join(root, '.Sent', 'dovecot-keywords'), 'utf8')).toBe('0 Todo\n');
      // A file renamed under the run while staged: the folder is listed again where it is built.
      const [staging] = await readdir(join(root, 'tmp'));
      await rename(join(root, 'tmp', staging as string, 'cur', '1557000000.M1P1.host:2,S'), join(root, 'tmp', staging as string, 'cur', '1557000000.M1P1.host:2,RS'));
      const flagged = await agent.setFlags('INBOX', [{ guid: '1557000000.M1P1.host', addFlags: 'F', removeFlags: '', addKeywords: [], removeKeywords: [] }]);
      expect(flagged.map((r) => r.vanished)).toEqual([false]);
      await agent.commit();

      await agent.publishFolder('INBOX');
      await agent.publishFolder('Sent');
      expect(await filesOf(root)).toEqual([
        { path: 'cur/1557000000.M1P1.host:2,FRS', body: 'Subject: message 1\r\n\r\nbody 1\r\n', mtimeMs: MTIME + 1 },
        { path: 'new/1557000000.M2P1.host', body: 'Subject: message 2\r\n\r\nbody 2\r\n', mtimeMs: MTIME + 2 },
      ]);
      expect(await filesOf(join(root, '.Sent'))).toEqual([
        { path: 'cur/1557000000.M3P1.host:2,FSa', body: 'Subject: message 3\r\n\r\nbody 3\r\n', mtimeMs: MTIME + 3 },
      ]);
      expect((await stat(join(root, '.Sent', 'cur'))).mode & 0o7777).toBe(0o2770);
      expect((await stat(join(root, '.Sent', 'new'))).mode & 0o7777).toBe(0o2750);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      await agent.commit();
      expect((await agent.manifest('Sent')).messages.map((m) => [m.guid, m.flags, m.keywords])).toEqual([['1557000000.M3P1.host', 'FS', ['Todo']]]);
      // The rename under the run.
      expect((await agent.drainWarnings()).raced).toBe(true);
    } finally {
      await agent.close();
    }
    // The cache the run left describes the folders as they are.
    const again = await openLocked();
    try {
      expect((await again.manifest('INBOX')).messages.map((m) => [m.guid, m.location])).toEqual([['1557000000.M1P1.host', 'cur'], ['1557000000.M2P1.host', 'new']]);
    } finally {
      await again.close();
    }
  });

  it('are not built aside where the folder holds a message: written in place', async () => {
    await makeFolder(root, { dir: '.Sent', messages: [message('1557000000.M9P9.other', 'theirs', { location: 'new' })] });
    const agent = await openLocked();
    try {
      expect(await agent.stageFolder('Sent')).toBe(false);
      await agent.deliver('Sent', [delivery(1)]);
      expect((await filesOf(join(root, '.Sent'))).map((f) => f.path)).toEqual(['cur/1557000000.M1P1.host:2,S', 'new/1557000000.M9P9.other,S=124']);
      await agent.publishFolder('Sent');
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('keep a message delivered meanwhile: the directory it came to is merged into, the other put in place', async () => {
    const agent = await openLocked();
    try {
      expect(await agent.stageFolder('INBOX')).toBe(true);
      const one = delivery(1);
      await agent.deliver('INBOX', [one, delivery(2, { location: 'new', flags: '' }), delivery(3, { location: 'new', flags: '' })]);
      // Postfix delivers to new/ while the run is copying; and the same message under our name.
      await writeFile(join(root, 'new', '1557000000.M9P9.other'), 'theirs');
      await writeFile(join(root, 'new', '1557000000.M3P1.host'), delivery(3).data as Buffer);
      await agent.publishFolder('INBOX');
      expect((await filesOf(root)).map((f) => [f.path, f.body])).toEqual([
        ['cur/1557000000.M1P1.host:2,S', 'Subject: message 1\r\n\r\nbody 1\r\n'],
        ['new/1557000000.M2P1.host', 'Subject: message 2\r\n\r\nbody 2\r\n'],
        ['new/1557000000.M3P1.host', 'Subject: message 3\r\n\r\nbody 3\r\n'],
        ['new/1557000000.M9P9.other', 'theirs'],
      ]);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      expect((await agent.drainWarnings()).raced).toBe(true);
      await agent.commit();
    } finally {
      await agent.close();
    }
    const again = await openLocked();
    try {
      expect((await again.manifest('INBOX')).messages.map((m) => m.guid).sort()).toEqual(['1557000000.M1P1.host', '1557000000.M2P1.host', '1557000000.M3P1.host', '1557000000.M9P9.other']);
    } finally {
      await again.close();
    }
  });

  it('are put in place as they are when a run that failed lets go of the Maildir', async () => {
    const agent = await openLocked();
    try {
      await agent.stageFolder('INBOX');
      await agent.deliver('INBOX', [delivery(1)]);
    } finally {
      await agent.unlock();
    }
    expect((await filesOf(root)).map((f) => f.path)).toEqual(['cur/1557000000.M1P1.host:2,S']);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('stay where they went when one of the two cannot be put in place, and the other is removed with a warning naming why', async () => {
    await makeFolder(root, { dir: '.Sent', messages: [] });
    const agent = await openLocked();
    try {
      expect(await agent.stageFolder('Sent')).toBe(true);
      await agent.deliver('Sent', [delivery(1), delivery(2, { location: 'new', flags: '' })]);
      // Another program puts a file where cur/ was: new/ goes in place, cur/ cannot.
      await rm(join(root, '.Sent', 'cur'), { recursive: true });
      await writeFile(join(root, '.Sent', 'cur'), 'not a directory');
      const failed = await agent.publishFolder('Sent').then(() => undefined, (err: unknown) => err as Error);
      expect(failed?.message).toContain(join(root, '.Sent', 'cur'));
      expect((await filesOf(join(root, '.Sent'))).map((f) => f.path)).toEqual(['new/1557000000.M2P1.host']);
    } finally {
      await agent.unlock();
    }
    // Tried once more as the run lets go: new/ stays, the copies of cur/ go, and the warning says why.
    expect((await filesOf(join(root, '.Sent'))).map((f) => f.path)).toEqual(['new/1557000000.M2P1.host']);
    expect(await readFile(join(root, '.Sent', 'cur'), 'utf8')).toBe('not a directory');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    const { warnings } = await agent.drainWarnings();
    expect(warnings).toEqual([{ folder: 'Sent', message: expect.stringContaining(`folder Sent was not published: `) }]);
    expect(warnings[0]?.message).toContain(join(root, '.Sent', 'cur'));
  });

  it('are left alone and removed where the folder is deleted', async () => {
    await makeFolder(root, { dir: '.Old', messages: [] });
    const agent = await openLocked();
    try {
      expect(await agent.stageFolder('Old')).toBe(true);
      expect(await agent.deleteFolder('Old')).toBe(true);
      expect(await exists(join(root, '.Old'))).toBe(false);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      await agent.close();
    }
  });
});
