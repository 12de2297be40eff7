// `mdsync backup` on real directories: an exact replica, incremental re-runs, MUA-like changes.

import { readFile, rename, unlink, writeFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf, type CliResult } from '../helpers/cli.js';
import { cliVia, type SideTransport } from '../helpers/transports.js';
import { addMessage, fileName, makeMaildir, message, messageFiles, readTree, removeDir, tempDir, type FolderSpec } from '../helpers/maildir.js';


/** The whole suite, with the second side reached through `t`. */
export function backupSuite(t: SideTransport): void {
  const far = (p: string): string => t.endpoint(p);
  let cli: (args: string[]) => Promise<CliResult>;

  let work: string;
  let src: string;
  let dst: string;

  const folders = (): FolderSpec[] => [
    {
      dir: '',
      keywords: ['$Important', 'Junk'],
      messages: [
        message('1600000000.M1P1.host', 'seen', { flags: 'S', mtime: new Date('2019-05-01T10:00:00Z') }),
        message('1600000001.M2P1.host', 'flagged important', { flags: 'FS', letters: 'a', mtime: new Date('2020-06-01T10:00:00Z') }),
        message('1600000002.M3P1.host', 'unread new', { location: 'new', mtime: new Date('2024-01-01T00:00:00Z') }),
        message('1600000003.M4P1.host', 'trashed', { flags: 'ST', mtime: new Date('2022-02-02T02:02:02Z') }),
      ],
    },
    {
      dir: '.Work',
      keywords: ['Junk', '$Important'],
      messages: [
        message('1600000010.M10P1.host', 'work junk', { flags: 'RS', letters: 'a' }),
        message('1600000011.M11P1.host', 'work both', { flags: 'S', letters: 'ab' }),
      ],
    },
    { dir: '.Work.Projects', messages: [message('1600000020.M20P1.host', 'nested', { flags: 'D' })] },
    { dir: '.Stra&AN8-e', messages: [message('1600000030.M30P1.host', 'utf7 folder', { flags: 'S' })] },
    { dir: '.Empty', messages: [] },
  ];

  beforeEach(async () => {
    work = await tempDir();
    cli = cliVia(t, work);
    await t.prepare?.(work);
    src = join(work, 'src');
    dst = join(work, 'dst');
    await makeMaildir(src, folders(), ['Work', 'Work/Projects', 'Straße']);
  });

  afterEach(async () => {
    await removeDir(work);
  });

  async function backup(...extra: string[]): Promise<CliResult> {
    return cli(['backup', src, far(dst), '--json', ...extra]);
  }

  describe(`backup (${t.name})`, () => {
    it('makes an exact replica: bytes, names, flags, keywords by name, mtimes, new/ vs cur/, folders, subscriptions', async () => {
      const r = await backup();
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const a = (await messageFiles(src)).map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));
      const b = (await messageFiles(dst)).map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));
      expect(b).toEqual(a);
      expect(b).toHaveLength(8);
      // Keywords travel by name: Work's letters mean other names than INBOX's.
      expect(await readFile(join(dst, '.Work', 'dovecot-keywords'), 'utf8')).toBe('0 Junk\n1 $Important\n');
      expect(await readFile(join(dst, 'dovecot-keywords'), 'utf8')).toBe('0 $Important\n');
      for (const dir of ['.Work', '.Work.Projects', '.Stra&AN8-e', '.Empty']) {
        expect(await readFile(join(dst, dir, 'maildirfolder'), 'utf8')).toBe('');
      }
      expect(await readFile(join(dst, 'subscriptions'), 'utf8')).toBe('V\t2\n\nStraße\nWork\nWork\tProjects\n');
      const v = await cli(['verify', src, far(dst)]);
      expect(v.stdout).toContain('identical: 5 folders, 8 messages');
      expect(v.code).toBe(0);
    });

    it('a re-run writes nothing and transfers nothing', async () => {
      expect((await backup()).code).toBe(0);
      const before = await readTree(dst);
      const again = await backup();
      expect(again.code).toBe(0);
      const j = jsonOf(again);
      expect(j.bytes).toBe(0);
      expect(Object.values(j.summary).every((s) => s.a === 0 && s.b === 0)).toBe(true);
      expect(await readTree(dst)).toEqual(before);
      // Over a wire, a no-change run is a hello, a folder list and a few small answers.
      if (far(dst) !== dst) {
        expect(j.wire.b?.sent).toBeGreaterThan(0);
        expect((j.wire.b?.sent ?? 0) + (j.wire.b?.received ?? 0)).toBeLessThan(2048);
      } else {
        expect(j.wire).toEqual({});
      }
    });

    it('after deliveries, flag renames, cross-folder moves and expunges a re-run is exact and writes only deliveries (a move links the replica\'s own file)', async () => {
      expect((await backup()).code).toBe(0);
      const inodesBefore = new Set((await messageFiles(dst)).map((f) => f.ino));
      // A delivery into new/ and one into Work.
      await addMessage(src, '', message('1700000000.M1P2.host', 'delivered', { location: 'new' }));
      await addMessage(src, '.Work', message('1700000001.M2P2.host', 'delivered to work'));
      // A flag rename in cur/ and a new/ → cur/ move with \Seen, as a client does.
      const seen = message('1600000000.M1P1.host', 'seen');
      await rename(join(src, 'cur', fileName({ ...seen, flags: 'S' })), join(src, 'cur', fileName({ ...seen, flags: 'FS' })));
      const unread = message('1600000002.M3P1.host', 'unread new');
      await rename(join(src, 'new', fileName({ ...unread, location: 'new' })), join(src, 'cur', fileName({ ...unread, flags: 'S' })));
      // A move to another folder under a new name (mutt writes a new file and unlinks the old).
      const moved = message('1600000003.M4P1.host', 'trashed', { flags: 'ST' });
      const body = await readFile(join(src, 'cur', fileName(moved)));
      await writeFile(join(src, '.Work.Projects', 'cur', '1700000002.M3P2.host:2,S'), body);
      await utimes(join(src, '.Work.Projects', 'cur', '1700000002.M3P2.host:2,S'), new Date('2022-02-02T02:02:02Z'), new Date('2022-02-02T02:02:02Z'));
      await unlink(join(src, 'cur', fileName(moved)));
      // An expunge.
      await unlink(join(src, '.Work', 'cur', fileName(message('1600000010.M10P1.host', 'work junk', { flags: 'RS', letters: 'a' }))));

      const r = await backup();
      expect(r.code).toBe(0);
      const j = jsonOf(r);
      expect(j.summary.copied).toEqual({ a: 0, b: 2 });
      expect(j.summary.moved).toEqual({ a: 0, b: 1 });
      expect(j.summary.flagged).toEqual({ a: 0, b: 2 });
      expect(j.summary.expunged).toEqual({ a: 0, b: 1 }); // the move's own expunge is the move
      const a = (await messageFiles(src)).map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));
      const after = await messageFiles(dst);
      expect(after.map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }))).toEqual(a);
      // The move is a hard link to the replica's own copy of the message (as Dovecot copies): no new file.
      const written = after.filter((f) => !inodesBefore.has(f.ino)).map((f) => f.path).sort();
      expect(written).toEqual([
        `.Work/cur/${fileName(message('1700000001.M2P2.host', 'delivered to work'))}`,
        `new/${fileName(message('1700000000.M1P2.host', 'delivered', { location: 'new' }))}`,
      ]);

      expect((await cli(['verify', src, far(dst)])).code).toBe(0);
    });

    it('removes from the replica what the source no longer has, folders included', async () => {
      expect((await backup()).code).toBe(0);
      await removeDir(join(src, '.Empty'));
      await unlink(join(src, '.Work.Projects', 'cur', fileName(message('1600000020.M20P1.host', 'nested', { flags: 'D' }))));
      const r = await backup();
      expect(r.code).toBe(0);
      expect(jsonOf(r).summary.foldersDeleted).toEqual({ a: 0, b: 1 });
      expect((await readTree(dst)).some((f) => f.path.startsWith('.Empty/'))).toBe(false);
      expect(await messageFiles(join(dst, '.Work.Projects'))).toEqual([]);
      expect((await cli(['verify', src, far(dst)])).code).toBe(0);
    });

    it('translates between Maildir++ and fs layouts, and back, exactly', async () => {
      const fs = join(work, 'fs');
      const back = join(work, 'back');
      expect((await cli(['backup', '--layout', 'fs', src, far(fs)])).code).toBe(0);
      expect((await readTree(fs)).map((f) => f.path)).toContain(`Work/Projects/cur/${fileName(message('1600000020.M20P1.host', 'nested', { flags: 'D' }))}`);
      expect((await readTree(fs)).map((f) => f.path)).toContain(`Stra&AN8-e/cur/${fileName(message('1600000030.M30P1.host', 'utf7 folder', { flags: 'S' }))}`);
      expect((await cli(['verify', src, far(fs)])).code).toBe(0);
      expect((await cli(['backup', '--layout', 'maildir++', fs, far(back)])).code).toBe(0);
      const strip = (t: Awaited<ReturnType<typeof messageFiles>>): unknown => t.map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));
      expect(strip(await messageFiles(back))).toEqual(strip(await messageFiles(src)));
      const lines = async (root: string): Promise<string[]> => (await readFile(join(root, 'subscriptions'), 'utf8')).split('\n').sort();
      expect(await lines(back)).toEqual(await lines(src));
    });

    it('refuses a folder name that cannot exist in the target layout, naming it', async () => {
      const fs = join(work, 'fs');
      await makeMaildir(fs, [{ dir: '', messages: [] }, { dir: 'v1.2', messages: [message('1600000040.M40P1.host', 'dotted', { flags: 'S' })] }]);
      const r = await cli(['backup', fs, far(join(work, 'pp')), '--layout', 'maildir++']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('folder "v1.2" cannot exist in a Maildir++ tree');
    });

    it('--dry-run prints the plan and changes nothing', async () => {
      const r = await cli(['backup', '-n', src, far(dst)]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('would be copied');
      expect(await readTree(work).then((t) => t.filter((f) => f.path.startsWith('dst/')))).toEqual([]);
      expect((await backup()).code).toBe(0);
      await addMessage(src, '', message('1700000000.M1P2.host', 'delivered', { location: 'new' }));
      const before = await readTree(dst);
      const dry = await cli(['backup', '--dry-run', src, far(dst)]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('copy INBOX/1700000000.M1P2.host');
      expect(dry.stdout).toContain('would do: copied 0/1');
      expect(await readTree(dst)).toEqual(before);
    });

    it('refuses a missing source with exit 1 and a message naming it', async () => {
      const r = await cli(['backup', join(work, 'nope'), far(dst)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Maildir ${join(work, 'nope')} does not exist`);
    });

    it('refuses to empty the replica when the source looks unmounted (exit 3, nothing changed)', async () => {
      expect((await backup()).code).toBe(0);
      await removeDir(src);
      await makeMaildir(src, [{ dir: '', messages: [] }]);
      const before = await readTree(dst);
      const r = await backup();
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('is it unmounted?');
      expect(await readTree(dst)).toEqual(before);
    });
  });
}
