// A side a run creates was made with all its missing parents: `sync a /typo/path/Maildir` (or a
// backup, or a far side's path) on a pair's first run made every directory on the way and copied
// everything there. As rsync does, only the last component is created; a missing parent is an
// error naming it, unless --mkpath.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.js';
import { contentsByFolder, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let a: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  await makeMaildir(a, [
    { dir: '', messages: [message('1600000001.M1P1.host', 'inbox 1', { flags: 'S' })] },
    { dir: '.Work', messages: [message('1600000002.M2P1.host', 'work 2', { location: 'new' })] },
  ], ['Work']);
});

afterEach(() => removeDir(work));

describe.each<[string, SideTransport]>([
  ['local', localTransport],
  ['mdsync serve', serveTransport],
])('a side to create whose parent is missing (%s)', (_name, t) => {
  let cli: (args: string[]) => Promise<CliResult>;

  beforeEach(() => {
    cli = cliVia(t, work);
  });

  describe.each(['backup', 'sync'] as const)('%s', (mode) => {
    it('is an error naming the missing parent (exit 1), nothing created', async () => {
      const side = join(work, 'typo', 'path', 'Maildir');
      const r = await cli([mode, a, t.endpoint(side)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot create Maildir ${side}: ${join(work, 'typo', 'path')} does not exist (--mkpath creates it too)`);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(await readdir(work)).not.toContain('typo');
    });

    it('is created with its parents under --mkpath', async () => {
      const side = join(work, 'new', 'path', 'Maildir');
      const r = await cli([mode, '--mkpath', a, t.endpoint(side)]);
      expect(r.code, r.stderr).toBe(0);
      expect(await contentsByFolder(side)).toEqual(await contentsByFolder(a));
      expect((await cli(['verify', a, t.endpoint(side)])).code).toBe(0);
    });

    it('whose parent exists has its last component created', async () => {
      const side = join(work, 'Maildir');
      const r = await cli([mode, a, t.endpoint(side)]);
      expect(r.code, r.stderr).toBe(0);
      expect(await contentsByFolder(side)).toEqual(await contentsByFolder(a));
    });
  });
});
