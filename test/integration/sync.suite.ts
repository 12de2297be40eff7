// Two-way and one-way `mdsync sync` on real directories: convergence with no loss and no duplicate.

import { mkdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf, type CliResult } from '../helpers/cli.js';
import { cliVia, type SideTransport } from '../helpers/transports.js';
import { addMessage, contentsByFolder, fileName, listNames, makeMaildir, message, messageFiles, readTree, removeDir, tempDir } from '../helpers/maildir.js';


/** The whole suite, with the second side reached through `t`. */
export function syncSuite(t: SideTransport): void {
  const far = (p: string): string => t.endpoint(p);
  let cli: (args: string[]) => Promise<CliResult>;

  let work: string;
  let a: string;
  let b: string;

  const base = (n: number): string => `16000000${String(n).padStart(2, '0')}.M${n}P1.host`;

  beforeEach(async () => {
    work = await tempDir();
    cli = cliVia(t, work);
    await t.prepare?.(work);
    a = join(work, 'a');
    b = join(work, 'b');
    await makeMaildir(a, [
      { dir: '', keywords: ['$Label1'], messages: [1, 2, 3, 4].map((n) => message(base(n), `inbox ${n}`, { flags: 'S' })) },
      { dir: '.Archive', messages: [5, 6].map((n) => message(base(n), `archive ${n}`, { flags: 'S' })) },
    ], ['Archive']);
  });

  afterEach(async () => {
    await removeDir(work);
  });

  const sync = (...extra: string[]): Promise<CliResult> => cli(['sync', a, far(b), '--json', ...extra]);

  /** Every message exactly once per folder on both sides, and both sides equal. */
  async function expectConverged(): Promise<Map<string, string[]>> {
    const ca = await contentsByFolder(a);
    const cb = await contentsByFolder(b);
    expect(cb).toEqual(ca);
    for (const hashes of ca.values()) expect(new Set(hashes).size).toBe(hashes.length);
    const v = await cli(['verify', a, far(b)]);
    expect(v.stdout).toContain('identical');
    expect(v.code).toBe(0);
    return ca;
  }

  async function renameFlags(root: string, dir: string, n: number, from: string, to: string, subject: string): Promise<void> {
    const m = message(base(n), subject);
    await rename(join(root, dir, 'cur', fileName({ ...m, flags: from })), join(root, dir, 'cur', fileName({ ...m, flags: to })));
  }

  describe(`sync (${t.name})`, () => {
    it('creates a missing second side on the first run, then a re-run does nothing', async () => {
      const r = await sync();
      expect(r.code).toBe(0);
      await expectConverged();
      const before = await readTree(b);
      const again = await sync();
      expect(again.code).toBe(0);
      expect(jsonOf(again).bytes).toBe(0);
      expect(await readTree(b)).toEqual(before);
    });

    it('merges changes made on both sides with no loss and no duplicate', async () => {
      expect((await sync()).code).toBe(0);
      // a: a delivery, a flag change, an expunge.
      await addMessage(a, '', message(base(10), 'new on a', { location: 'new' }));
      await renameFlags(a, '', 1, 'S', 'FS', 'inbox 1');
      await unlink(join(a, 'cur', fileName(message(base(2), 'inbox 2', { flags: 'S' }))));
      // b: a delivery, a different flag change on the same message, a move to Archive under a new name.
      await addMessage(b, '.Archive', message(base(11), 'new on b'));
      await renameFlags(b, '', 1, 'S', 'RS', 'inbox 1');
      // Clients that move by copying keep the arrival date (mtime), as mutt and Dovecot do.
      const moved = join(b, 'cur', fileName(message(base(3), 'inbox 3', { flags: 'S' })));
      const target = join(b, '.Archive', 'cur', '1700000000.M99P9.host:2,S');
      await writeFile(target, await readFile(moved));
      const { mtime } = await stat(moved);
      await utimes(target, mtime, mtime);
      await unlink(moved);

      const r = await sync();
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const j = jsonOf(r);
      expect(j.summary.copied).toEqual({ a: 1, b: 1 });
      expect(j.summary.moved).toEqual({ a: 1, b: 0 });
      const contents = await expectConverged();
      expect(contents.get('INBOX')).toHaveLength(3); // 1, 4, 10 (2 expunged, 3 moved)
      expect(contents.get('.Archive')).toHaveLength(4); // 5, 6, 11, moved 3
      // Both flag changes survive: added on either side is added.
      expect(await listNames(join(a, 'cur'))).toContain(fileName(message(base(1), 'inbox 1', { flags: 'FRS' })));
      expect(await listNames(join(b, 'cur'))).toContain(fileName(message(base(1), 'inbox 1', { flags: 'FRS' })));
      // The move travelled as a local copy: only the two deliveries crossed.
      const delivered = Buffer.byteLength(message(base(10), 'new on a').body) + Buffer.byteLength(message(base(11), 'new on b').body);
      expect(j.bytes).toBe(delivered);
      const again = await sync();
      expect(jsonOf(again).bytes).toBe(0);
      expect(Object.values(jsonOf(again).summary).every((s) => s.a === 0 && s.b === 0)).toBe(true);
    });

    it('keeps both messages when the same name holds different bytes on each side', async () => {
      await makeMaildir(b, [{ dir: '', messages: [message(base(1), 'another message entirely', { flags: 'S' })] }]);
      const r = await sync();
      expect(r.code).toBe(0);
      const contents = await expectConverged();
      expect(contents.get('INBOX')).toHaveLength(5);
    });

    it('unions flags at the first meeting of the same message', async () => {
      await makeMaildir(b, [{ dir: '', messages: [message(base(1), 'inbox 1', { flags: 'RS' })] }]);
      expect((await sync()).code).toBe(0);
      await expectConverged();
      expect(await listNames(join(a, 'cur'))).toContain(fileName(message(base(1), 'inbox 1', { flags: 'RS' })));
    });

    it('--one-way brings a\'s changes to b and leaves b\'s own changes on b', async () => {
      expect((await sync('--one-way')).code).toBe(0);
      await addMessage(a, '', message(base(20), 'from a'));
      await addMessage(b, '', message(base(21), 'only on b'));
      await renameFlags(b, '', 4, 'S', 'FS', 'inbox 4');
      await unlink(join(b, '.Archive', 'cur', fileName(message(base(5), 'archive 5', { flags: 'S' }))));
      const aBefore = await readTree(a);
      const r = await sync('--one-way');
      expect(r.code).toBe(0);
      expect(await readTree(a)).toEqual(aBefore);
      const namesB = await listNames(join(b, 'cur'));
      expect(namesB).toContain(fileName(message(base(20), 'from a')));
      expect(namesB).toContain(fileName(message(base(21), 'only on b')));
      expect(namesB).toContain(fileName(message(base(4), 'inbox 4', { flags: 'FS' })));
      expect(await messageFiles(join(b, '.Archive'))).toHaveLength(1);
      // And again: nothing more to do, b's changes still stay.
      const again = await sync('--one-way');
      expect(Object.values(jsonOf(again).summary).every((s) => s.a === 0 && s.b === 0)).toBe(true);
      expect(await readTree(a)).toEqual(aBefore);
    });

    it('--one-way keeps a folder b deleted deleted, until a gets new mail in it', async () => {
      expect((await sync('--one-way')).code).toBe(0);
      await removeDir(join(b, '.Archive'));
      for (let run = 0; run < 2; run++) {
        const r = await sync('--one-way');
        expect(r.code).toBe(0);
        expect(jsonOf(r).bytes).toBe(0);
        expect(await listNames(b)).not.toContain('.Archive');
      }
      await addMessage(a, '.Archive', message(base(22), 'archived later'));
      expect((await sync('--one-way')).code).toBe(0);
      // Only the new message goes over: the two b dropped stay dropped.
      expect((await messageFiles(join(b, '.Archive'))).map((f) => f.path)).toEqual([`cur/${fileName(message(base(22), 'archived later'))}`]);
      expect(await messageFiles(join(a, '.Archive'))).toHaveLength(3);
    });

    it('keeps one copy of a message moved to the same folder on both sides', async () => {
      expect((await sync()).code).toBe(0);
      const original = message(base(3), 'inbox 3', { flags: 'S' });
      // Each side's client moves it under a name of its own, keeping the arrival date.
      for (const [root, name] of [[a, '1700000001.M1P1.laptop:2,S'], [b, '1700000002.M2P2.webmail:2,FS']] as const) {
        const from = join(root, 'cur', fileName(original));
        const to = join(root, '.Archive', 'cur', name);
        await writeFile(to, await readFile(from));
        const { mtime } = await stat(from);
        await utimes(to, mtime, mtime);
        await unlink(from);
      }
      const r = await sync();
      expect(r.code).toBe(0);
      expect(jsonOf(r).bytes).toBe(0);
      const contents = await expectConverged();
      expect(contents.get('.Archive')).toHaveLength(3);
      // The flags merge as at a first meeting: b's flag joins a's.
      expect(await listNames(join(a, '.Archive', 'cur'))).toContain('1700000001.M1P1.laptop:2,FS');
    });

    it('follows a folder deleted on one side, and a folder renamed without transferring its mail', async () => {
      await makeMaildir(a, [{ dir: '.Old', messages: [message(base(30), 'old')] }, { dir: '.Gone', messages: [] }]);
      expect((await sync()).code).toBe(0);
      await removeDir(join(a, '.Gone'));
      await rename(join(a, '.Old'), join(a, '.New'));
      // A client renaming keeps the names; the rename shows as a delete plus a create.
      const r = await sync();
      expect(r.code).toBe(0);
      expect(jsonOf(r).bytes).toBe(0);
      expect((await listNames(b)).filter((n) => n.startsWith('.'))).toEqual(['.Archive', '.New']);
      await expectConverged();
    });

    it('recreates a folder deleted on one side when the other got new mail in it', async () => {
      expect((await sync()).code).toBe(0);
      await removeDir(join(a, '.Archive'));
      await addMessage(b, '.Archive', message(base(40), 'arrived meanwhile'));
      expect((await sync()).code).toBe(0);
      const contents = await expectConverged();
      expect(contents.get('.Archive')).toHaveLength(3);
    });

    it('refuses when a side was wiped (exit 3) and when its root is missing (exit 1); nothing changes', async () => {
      expect((await sync()).code).toBe(0);
      await removeDir(b);
      await mkdir(b);
      const before = await readTree(a);
      const wiped = await sync();
      expect(wiped.code).toBe(3);
      expect(wiped.stderr).toContain('is it unmounted?');
      expect(await readTree(a)).toEqual(before);
      await removeDir(b);
      const missing = await sync();
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`Maildir ${b} does not exist`);
      expect(await readTree(a)).toEqual(before);
    });

    it('stops before expunging more than --max-delete allows, and goes ahead with --force', async () => {
      const many = Array.from({ length: 120 }, (_, i) => message(`17000${String(i).padStart(5, '0')}.M${i}P3.host`, `bulk ${i}`, { flags: 'S' }));
      await makeMaildir(a, [{ dir: '.Bulk', messages: many }]);
      expect((await sync()).code).toBe(0);
      for (const m of many.slice(0, 40)) await unlink(join(a, '.Bulk', 'cur', fileName(m)));
      const before = await readTree(b);
      const refused = await sync();
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('refusing to expunge 40 of 126 messages on the second side (limit 31');
      expect(await readTree(b)).toEqual(before);
      const stillRefused = await sync('--max-delete', '30');
      expect(stillRefused.code).toBe(3);
      expect(await readTree(b)).toEqual(before);
      const forced = await sync('--force');
      expect(forced.code).toBe(0);
      expect(await messageFiles(join(b, '.Bulk'))).toHaveLength(80);
    });

    it('refuses to run while another process holds a side\'s lock, and takes over a dead one\'s', async () => {
      expect((await sync()).code).toBe(0);
      await addMessage(a, '', message(base(50), 'waiting'));
      await writeFile(join(b, 'mdsync.lock'), `${process.pid}:${hostname()}\n`);
      const locked = await sync();
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain(`Maildir ${b} is locked by another process (${process.pid}:${hostname()}`);
      expect(await messageFiles(b)).toHaveLength(6);
      // A lock left by a process that no longer exists is stale.
      await writeFile(join(b, 'mdsync.lock'), `2147483646:${hostname()}\n`);
      const r = await sync();
      expect(r.code).toBe(0);
      expect(await messageFiles(b)).toHaveLength(7);
      expect(await listNames(b)).not.toContain('mdsync.lock');
    });

    it('answers a usage error with exit 64', async () => {
      const r = await cli(['sync', a]);
      expect(r.code).toBe(64);
      const bad = await cli(['sync', a, far(b), '--max-delete', 'lots']);
      expect(bad.code).toBe(64);
      expect(bad.stderr).toContain('--max-delete takes a number or a percentage');
    });
  });
}
