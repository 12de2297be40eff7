// mdsync.lock is read as a lock and nothing else: never through a symbolic link, never blocking on
// a FIFO, and at most `pid:host` of it quoted. (The content of a link's target, or of any file put
// there, was quoted in full; a FIFO hung the run.)

import { execFileSync } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [{ dir: '', messages: [message('1600000000.M1P1.host', 'one')] }]);
});

afterEach(() => removeDir(work));

describe('a mdsync.lock that is not a lock file', () => {
  it('a symbolic link: refused naming the lock, its target neither read nor quoted', async () => {
    const secret = join(work, 'secret');
    await writeFile(secret, `${process.pid}:SECRET-CONTENT\n`);
    await symlink(secret, join(a, 'mdsync.lock'));
    const r = await runCli(['sync', a, b], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lock file ${join(a, 'mdsync.lock')} is not a regular file`);
    expect(r.stderr).not.toContain('SECRET');
    expect(r.stderr).not.toContain('    at ');
  });

  it('a FIFO: refused at once, no hang', async () => {
    execFileSync('mkfifo', [join(a, 'mdsync.lock')]);
    const r = await runCli(['sync', a, b], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lock file ${join(a, 'mdsync.lock')} is not a regular file`);
  }, 20_000);

  it('a large file of something else: refused, its content never quoted', async () => {
    await writeFile(join(a, 'mdsync.lock'), 'NOT-A-LOCK '.repeat(100_000));
    const r = await runCli(['sync', a, b], work);
    expect(r.stderr).not.toContain('NOT-A-LOCK');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`is locked by another process (?, lock file ${join(a, 'mdsync.lock')})`);
    expect(await messageFiles(b).catch(() => [])).toEqual([]);
  });
});
