// A folder changed by another program that then sets the directory's mtime back (rsync -a gives it
// the source's; a copy made in the same clock tick has the same one) was taken from the scan
// cache as unchanged: a message put there was never synced, one removed was still counted there,
// and verify, reading the same cache, reported what was not on disk.

import { execFileSync } from 'node:child_process';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bulkFolder, makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [bulkFolder('', 0, 5)]);
});

afterEach(() => removeDir(work));

/** Runs `change` on a folder's cur/, then gives the directory back the mtime it had, to the nanosecond (as rsync -a would). */
async function behindItsBack(dir: string, change: () => Promise<void>): Promise<void> {
  const before = (await stat(dir, { bigint: true })).mtimeNs;
  await change();
  execFileSync('touch', ['-m', '-d', `@${before / 1_000_000_000n}.${String(before % 1_000_000_000n).padStart(9, '0')}`, dir]);
  expect((await stat(dir, { bigint: true })).mtimeNs).toBe(before);
}

describe.each([localTransport, serveTransport])('a folder whose mtime was set back ($name)', (t: SideTransport) => {
  const run = (args: string[]): ReturnType<ReturnType<typeof cliVia>> => cliVia(t, work)(args);

  it('folder-mtime-set-back-not-trusted: a message put in the second side is synced to the first', async () => {
    expect((await run(['sync', a, t.endpoint(b)])).code).toBe(0);
    const name = '1800000001.M1P1.elsewhere:2,S';
    await behindItsBack(join(b, 'cur'), () => writeFile(join(b, 'cur', name), 'Subject: restored\r\n\r\nput back by rsync\r\n'));
    const r = await run(['sync', a, t.endpoint(b)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('copied 1/0,');
    expect(await readdir(join(a, 'cur'))).toContain(name);
    const v = await run(['verify', a, t.endpoint(b)]);
    expect(v.stdout, v.stderr).toContain('identical: 1 folder, 6 messages');
  });

  it('a message removed from the replica is copied again, and verify sees it missing before', async () => {
    expect((await run(['backup', a, t.endpoint(b)])).code).toBe(0);
    const gone = (await readdir(join(b, 'cur')))[0] as string;
    await behindItsBack(join(b, 'cur'), () => rm(join(b, 'cur', gone)));
    const v = await run(['verify', a, t.endpoint(b)]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('only on the first side');
    const r = await run(['backup', a, t.endpoint(b)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('copied 0/1,');
    expect(await readdir(join(b, 'cur'))).toContain(gone);
  });
});
