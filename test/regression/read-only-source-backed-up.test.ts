// A backup from a source that cannot be written (a snapshot, a disk mounted read-only, a Maildir the
// user may read but not write) failed creating mdsync.lock in it, and left an empty destination
// behind. A sync from such a side left the empty destination too, as did a backup of a directory
// that holds no Maildir.

import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { contentsByFolder, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';
import { requireModesApply, runCliUnprivileged } from '../helpers/unprivileged.js';

let work: string;
let src: string;
/** How each test's freezing is undone, last first, before its temp dir is removed. */
let undo: (() => Promise<void> | void)[];

const base = (n: number): string => `16000000${String(n).padStart(2, '0')}.M${n}P1.host`;
/** The pid of a run that is gone: its lock and temp file are what a snapshot taken mid-run holds. */
const DEAD_PID = 4_000_000;

beforeAll(async () => {
  await requireModesApply();
});

beforeEach(async () => {
  work = await tempDir();
  src = join(work, 'src');
  undo = [];
  await makeMaildir(src, [
    { dir: '', messages: [1, 2, 3].map((n) => message(base(n), `inbox ${n}`, { flags: 'S' })) },
    { dir: '.Work', keywords: ['$Label1'], messages: [message(base(5), 'work 5', { flags: 'FS', letters: 'a' }), message(base(6), 'work 6', { location: 'new' })] },
  ], ['Work']);
  await writeFile(join(src, 'dovecot-uidlist'), `3 V1600000000 N4\n1 :${base(1)}\n2 :${base(2)}\n3 :${base(3)}\n`);
  // Taken while a run was under way: its lock and a half-written message are in the snapshot.
  await writeFile(join(src, 'mdsync.lock'), `${DEAD_PID}:${hostname()}:1\n`);
  await writeFile(join(src, 'tmp', `1600000099.M99P1.mdsync-${DEAD_PID}@${hostname()}`), 'half a message');
});

afterEach(async () => {
  for (const step of undo.reverse()) await step();
  await removeDir(work);
});

function run(command: string): void {
  execFileSync(command.split(' ')[0] as string, command.split(' ').slice(1));
}

/** Every entry under root, root first, directories before what they hold. */
async function entries(root: string): Promise<{ path: string; isDir: boolean }[]> {
  const out = [{ path: root, isDir: true }];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const path = join(root, e.name);
    if (e.isDirectory()) out.push(...await entries(path));
    else out.push({ path, isDir: false });
  }
  return out;
}

const directories = async (root: string): Promise<string[]> => (await entries(root)).filter((e) => e.isDir).map((e) => e.path);

interface ReadOnlyKind {
  name: string;
  /** What the error says of it. */
  why: string;
  /** Makes the source read-only; returns the path to read it through. */
  freeze(): Promise<string>;
  /** Runs mdsync as the user for whom the source is read-only. */
  cli(args: string[]): Promise<CliResult>;
}

const asRoot = (args: string[]): Promise<CliResult> => runCli(args, work, { SSH_AUTH_SOCK: '' });

const KINDS: ReadOnlyKind[] = [
  {
    name: 'a read-only mount (a snapshot, an old disk)',
    why: 'read-only filesystem',
    async freeze() {
      const mnt = join(work, 'snapshot');
      await mkdir(mnt);
      run(`mount --bind ${src} ${mnt}`);
      undo.push(() => run(`umount ${mnt}`));
      run(`mount -o remount,bind,ro ${mnt}`);
      return mnt;
    },
    cli: asRoot,
  },
  {
    name: 'immutable directories (chattr +i)',
    why: 'permission denied',
    async freeze() {
      for (const dir of await directories(src)) {
        run(`chattr +i ${dir}`);
        undo.push(() => run(`chattr -i ${dir}`));
      }
      return src;
    },
    cli: asRoot,
  },
  {
    name: 'a Maildir the user may read but not write (modes)',
    why: 'permission denied',
    async freeze() {
      for (const dir of await directories(src)) {
        await chmod(dir, 0o555);
        undo.push(() => chmod(dir, 0o755));
      }
      return src;
    },
    cli: (args) => runCliUnprivileged(args, work, { SSH_AUTH_SOCK: '' }),
  },
];

/** Every entry under root, directories included, as `ls -liR --full-time` would tell them apart. */
async function snapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const { path } of await entries(root)) {
    const st = await lstat(path);
    out.push(`${relative(root, path) || '.'} ino=${st.ino} mode=${st.mode.toString(8)} size=${st.size} mtime=${st.mtimeMs} ctime=${st.ctimeMs} links=${st.nlink}`);
  }
  return out.sort();
}

describe.each<[string, SideTransport]>([
  ['local', localTransport],
  ['mdsync serve', serveTransport],
])('a source that cannot be written (%s)', (_name, t) => {
  describe.each(KINDS)('$name', (kind) => {
    it('is backed up without a lock, with a warning: exit 0, an exact replica, the source untouched', async () => {
      const want = await contentsByFolder(src);
      const source = await kind.freeze();
      const before = await snapshot(source);
      const dst = join(work, 'dst');
      const cli = (args: string[]): Promise<CliResult> => kind.cli([...args, ...t.args]);

      const r = await cli(['backup', t.endpoint(source), dst]);
      expect(r.code, r.stderr).toBe(0);
      // The one warning of the run: nothing about the dead run's lock or temp file left there.
      expect(r.stderr).toBe(`mdsync: warning: first side: Maildir ${source} cannot be written (${kind.why}): read without its lock: a program writing to it meanwhile is not kept out (a change it makes during the run is reported: run again)\n`);
      expect(await contentsByFolder(dst)).toEqual(want);
      const verify = await cli(['verify', '--uids', t.endpoint(source), dst]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      // A re-run (the scan cache now knows the source) is quiet about all but the lock too.
      const again = await cli(['backup', t.endpoint(source), dst]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toBe(r.stderr);
      expect(await snapshot(source), 'the source was written').toEqual(before);
    });

    it('is refused by a two-way sync, naming it and why (exit 1), the other side not created', async () => {
      const source = await kind.freeze();
      const before = await snapshot(source);
      const dst = join(work, 'dst');
      const r = await kind.cli(['sync', t.endpoint(source), dst, ...t.args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Maildir ${source} cannot be written (${kind.why}): it cannot be locked, and only a backup's source is read without its lock`);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(await readdir(work)).not.toContain('dst');
      expect(await snapshot(source)).toEqual(before);
    });
  });

  describe('a source that cannot be used', () => {
    it.each<[string, (path: string) => Promise<void>, string]>([
      ['missing', async () => undefined, 'does not exist'],
      ['an empty directory (an unmounted mount point)', async (path) => { await mkdir(path); }, 'is not a Maildir (no cur/ and no folder in it): is it mounted?'],
      ['a directory holding no Maildir', async (path) => {
        await mkdir(join(path, '.cache', 'thumbnails'), { recursive: true });
        await mkdir(join(path, 'Documents'));
        await writeFile(join(path, 'notes.txt'), 'not mail');
      }, 'is not a Maildir'],
    ])('%s: the backup fails naming it (exit 1), the destination not created', async (_what, make, says) => {
      const source = join(work, 'elsewhere');
      await make(source);
      const dst = join(work, 'dst');
      const r = await asRoot(['backup', t.endpoint(source), dst, ...t.args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(source);
      expect(r.stderr).toContain(says);
      expect(await readdir(work)).not.toContain('dst');
    });
  });
});
