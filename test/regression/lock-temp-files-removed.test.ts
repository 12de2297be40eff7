// Temporary lock files (`mdsync.lock.*`, `dovecot-uidlist.lock.*`) of a run that is gone do not pile
// up: a full disk leaves none, and those a killed run left are removed by the next run even when
// that run finds no lock to take over. (136 were left after one full-disk first copy, more each run.)

import { execFileSync, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, listNames, makeMaildir, readTree, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;
let a: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  await makeMaildir(a, [bulkFolder('', 0, 150), bulkFolder('.Lists', 1000, 150), bulkFolder('.Work', 2000, 100)], ['Lists', 'Work']);
});

afterEach(() => removeDir(work));

const LOCK_TEMP = /(^|\/)(mdsync|dovecot-uidlist)\.lock\.[^/]+$/;

async function lockTemps(root: string): Promise<string[]> {
  return (await readTree(root)).map((f) => f.path).filter((p) => LOCK_TEMP.test(p));
}

async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid as number;
}

describe('temporary lock files', () => {
  it('a full disk leaves none behind, run after run, and the run once space is back leaves none', async () => {
    const mnt = join(work, 'mnt');
    const b = join(mnt, 'replica');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt]);
    try {
      const full = await runCli(['backup', a, b], work);
      expect(full.code).toBe(1);
      expect(full.stderr).toContain('disk full');
      expect(await lockTemps(b)).toEqual([]);
      // Not a byte left: even the lock's own temp file gets no content.
      execFileSync('sh', ['-c', `dd if=/dev/zero of=${join(mnt, 'filler')} bs=64k 2>/dev/null; true`]);
      for (let run = 0; run < 3; run++) {
        const r = await runCli(['backup', a, b], work);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('disk full');
        expect(r.stderr).not.toContain('    at ');
      }
      expect(await lockTemps(b)).toEqual([]);
      await rm(join(mnt, 'filler'));
      execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
      const again = await runCli(['backup', a, b], work);
      expect(again.code, again.stderr).toBe(0);
      expect(await lockTemps(b)).toEqual([]);
    } finally {
      execFileSync('umount', ['-l', mnt]);
    }
  });

  it('the one of a run killed while taking the lock is removed by the next run, though no lock is left', async () => {
    const b = join(work, 'b');
    expect((await runCli(['sync', a, b], work)).code).toBe(0);
    const tag = `mdsync-${await deadPid()}@${hostname()}`;
    // Killed after writing its temp file and before linking it: the lock never existed.
    await writeFile(join(b, `mdsync.lock.k2j4h5.${tag}`), `1:${hostname()}\n`);
    expect(await listNames(b)).not.toContain('mdsync.lock');
    const r = await runCli(['sync', a, b], work);
    expect(r.code, r.stderr).toBe(0);
    expect(await lockTemps(b)).toEqual([]);
  });
});
