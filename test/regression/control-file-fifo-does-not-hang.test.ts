// A FIFO or a device as a control file ends the run promptly (refused or left aside), in bounded memory.
// (Opening a FIFO blocked the run forever, and `dovecot.index -> /dev/zero` grew it to 19.5 GB.)

import { execFileSync } from 'node:child_process';
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

/** A run that hangs is killed after this long; one that allocates past 4 GB of address space fails. */
const KILL_AFTER_S = 20;
const BOUNDS = ['prlimit', '--as=4000000000', '--', 'timeout', '-s', 'KILL', String(KILL_AFTER_S)];

let work: string;
let src: string;
let dst: string;

beforeEach(async () => {
  work = await tempDir();
  src = join(work, 'src');
  dst = join(work, 'dst');
  await makeMaildir(src, [
    { dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] },
    { dir: '.Work', messages: [message('1600000002.M2P1.host', 'two', { flags: 'S' })] },
  ]);
  await writeFile(join(src, '.Work', 'dovecot-uidlist'), '3 V1600000000 N2\n1 :1600000002.M2P1.host\n');
});

afterEach(async () => {
  await removeDir(work);
});

const mkfifo = (path: string): void => { execFileSync('mkfifo', [path]); };

async function backup(t: SideTransport): Promise<CliResult & { seconds: number }> {
  const started = Date.now();
  const r = await runCli(['backup', t.endpoint(src), dst, ...t.args], work, { SSH_AUTH_SOCK: '', ...t.env }, BOUNDS);
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

describe.each([localTransport, serveTransport])('FIFOs and devices as control files ($name)', (t: SideTransport) => {
  it('a FIFO as dovecot-keywords: the run ends, that folder reported as not a regular file, the other copied', async () => {
    mkfifo(join(src, 'dovecot-keywords'));
    const r = await backup(t);
    expect(r.seconds).toBeLessThan(KILL_AFTER_S);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dovecot-keywords is not a regular file/);
    expect(await readdir(join(dst, '.Work', 'cur'))).toHaveLength(1);
  }, 60_000);

  it('a FIFO as dovecot-uidlist: the run ends, a warning names it, both folders copied', async () => {
    await import('node:fs/promises').then((fs) => fs.rm(join(src, '.Work', 'dovecot-uidlist')));
    mkfifo(join(src, '.Work', 'dovecot-uidlist'));
    const r = await backup(t);
    expect(r.seconds).toBeLessThan(KILL_AFTER_S);
    expect(r.stderr).toMatch(/dovecot-uidlist is not a regular file/);
    expect(await readdir(join(dst, 'cur'))).toHaveLength(1);
    expect(await readdir(join(dst, '.Work', 'cur'))).toHaveLength(1);
  }, 60_000);

  it('a FIFO as subscriptions: the run ends, refused by name', async () => {
    mkfifo(join(src, 'subscriptions'));
    const r = await backup(t);
    expect(r.seconds).toBeLessThan(KILL_AFTER_S);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/subscriptions is not a regular file/);
  }, 60_000);

  it.each([
    ['a link to /dev/zero', (path: string) => symlink('/dev/zero', path)],
    ['the /dev/zero device itself', async (path: string) => { execFileSync('mknod', [path, 'c', '1', '5']); }],
  ])('dovecot.index as %s: not read, the folder copied with its UIDs', async (_how, make) => {
    await make(join(src, '.Work', 'dovecot.index'));
    await make(join(src, '.Work', 'dovecot.index.log'));
    const r = await backup(t);
    expect(r.seconds).toBeLessThan(KILL_AFTER_S);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readdir(join(dst, '.Work', 'cur'))).toHaveLength(1);
    expect(await readFile(join(dst, '.Work', 'dovecot-uidlist'), 'utf8')).toMatch(/^3 V1600000000 N2\b/);
  }, 60_000);
});
