// A -f glob that matches no folder (a typo: -f Archiv) is named: backup and sync warn and go on;
// verify compares nothing and exits 1 with an error, never "identical: 0 folders".
// (All three were silent, and verify called two different trees identical.)

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;
let a: string;
let b: string;

beforeAll(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [
    { dir: '', messages: [message('1600000001.M1P1.host', 'inbox')] },
    { dir: '.Archive', messages: [message('1600000002.M2P1.host', 'archived')] },
  ]);
  // b differs from a in every folder: "identical" would be false whatever was compared.
  await makeMaildir(b, [{ dir: '', messages: [message('1600000003.M3P1.host', 'other')] }]);
});

afterAll(() => removeDir(work));

const WARNING = 'mdsync: warning: -f "Archiv" matches no folder on either side\n';

describe('a -f glob that matches no folder', () => {
  it('verify: an error naming the glob, exit 1, nothing called identical', async () => {
    const r = await runCli(['verify', '-f', 'Archiv', a, b], work);
    expect(r.stderr).toBe('mdsync: -f "Archiv" matches no folder on either side: nothing compared\n');
    expect(r.stdout).not.toContain('identical');
    expect(r.code).toBe(1);
  });

  it('verify --json: the error in the object, identical false, exit 1', async () => {
    const r = await runCli(['verify', '--json', '-f', 'Arch*', '-f', 'Sent', a, b], work);
    expect(JSON.parse(r.stdout)).toMatchObject({ identical: false, exit: 1, error: { code: 'NO_FOLDER', message: '-f "Sent" matches no folder on either side: nothing compared' } });
    expect(r.code).toBe(1);
  });

  it('verify: -x excluding every folder is an error too', async () => {
    const r = await runCli(['verify', '-x', '**', '-x', 'INBOX', a, b], work);
    expect(r.stderr).toBe('mdsync: -x excludes every folder: nothing compared\n');
    expect(r.code).toBe(1);
  });

  it('backup and sync -n: a warning naming the glob, exit 0', async () => {
    for (const args of [['sync', '-n'], ['backup', '-n']]) {
      const r = await runCli([...args, '-f', 'Archiv', a, b], work);
      expect(r.stderr).toBe(WARNING);
      expect(r.code).toBe(0);
    }
  });

  it('backup: a warning naming the glob, in --json too; the glob that matched is copied', async () => {
    const dst = join(work, 'backup');
    const r = await runCli(['backup', '--json', '-f', 'Archiv', '-f', 'Archive', a, dst], work);
    expect(r.stderr).toBe(WARNING);
    expect(JSON.parse(r.stdout).warnings).toEqual([{ message: '-f "Archiv" matches no folder on either side' }]);
    expect(r.code).toBe(0);
    expect((await messageFiles(dst)).map((f) => f.path.split('/')[0])).toEqual(['.Archive']);
    const verify = await runCli(['verify', '-f', 'Archive', a, dst], work);
    expect(verify.stdout).toMatch(/^identical: 1 folder, 1 message\n$/);
    expect(verify.code).toBe(0);
  });

  it('a glob matching a folder on one side only is no typo: no warning', async () => {
    const r = await runCli(['sync', '-n', '-f', 'Archive', a, b], work);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
