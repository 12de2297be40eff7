// A control file that is a symbolic link is never followed, and no control file's content is quoted in an error.
// (`subscriptions` pointing at a root-only file put that file's lines into the replica; a linked
// dovecot-keywords or dovecot-uidlist had its first line quoted in an error sent over the wire.)

import { chmod, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const SECRET = 'Payroll-7f3a9c';

let work: string;
let src: string;
let dst: string;
let secret: string;

beforeEach(async () => {
  work = await tempDir();
  src = join(work, 'src');
  dst = join(work, 'dst');
  await makeMaildir(src, [
    { dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] },
    { dir: '.Work', messages: [message('1600000002.M2P1.host', 'two', { flags: 'S' })] },
  ]);
  // A root-only file outside the Maildir, shaped to parse as each control file would.
  await mkdir(join(work, 'private'), { mode: 0o700 });
  secret = join(work, 'private', 'secret');
  await writeFile(secret, `${SECRET}\n`, { mode: 0o600 });
  await chmod(secret, 0o600);
});

afterEach(async () => {
  await removeDir(work);
});

/** Every file's bytes under a directory, as one string. */
async function allBytes(dir: string): Promise<string> {
  let out = '';
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out += await allBytes(path);
    else if (e.isFile()) out += await readFile(path, 'latin1');
  }
  return out;
}

describe.each([localTransport, serveTransport])('control files behind symbolic links ($name)', (t: SideTransport) => {
  const run = (args: string[]) => cliVia(t, work)(args);

  it('a subscriptions link is refused, naming the file; its target never reaches the replica', async () => {
    await symlink(secret, join(src, 'subscriptions'));
    const r = await run(['backup', t.endpoint(src), dst]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('subscriptions');
    expect(r.stderr).toContain('symbolic link');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(await allBytes(work).then((all) => all.split(SECRET).length - 1)).toBe(1);
  });

  it('a dovecot-keywords link: that folder is left alone and reported by name, its target never quoted', async () => {
    await symlink(secret, join(src, 'dovecot-keywords'));
    const r = await run(['backup', t.endpoint(src), dst]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('dovecot-keywords');
    expect(r.stderr).toContain('symbolic link');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    // The other folder is copied all the same.
    expect(await readdir(join(dst, '.Work', 'cur'))).toHaveLength(1);
    expect(await allBytes(dst)).not.toContain(SECRET);
  });

  it('a dovecot-uidlist link is not read: a warning names it, its target is never quoted', async () => {
    await symlink(secret, join(src, '.Work', 'dovecot-uidlist'));
    const r = await run(['backup', t.endpoint(src), dst]);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stderr).toContain('dovecot-uidlist');
    expect(r.stderr).toContain('symbolic link');
    expect(await readdir(join(dst, '.Work', 'cur'))).toHaveLength(1);
    expect(await allBytes(dst)).not.toContain(SECRET);
  });

  it('a damaged dovecot-keywords is reported by file and line, its content never quoted', async () => {
    await writeFile(join(src, 'dovecot-keywords'), `0 Todo\n${SECRET}\n`);
    const r = await run(['backup', t.endpoint(src), dst]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/dovecot-keywords line 2/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });
});
