// A replica whose folder got a UIDVALIDITY of its own (the source's UID 4 would have named another
// message than the replica's): a backup run again with no change does nothing, as any no-change run
// (DESIGN invariant 5), instead of rewriting the replica's dovecot-uidlist and the state each time.

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doveadmSave, dovecotWorkDir, mailboxStatus } from '../helpers/dovecot.js';
import { mailText, makeMaildir, message, removeDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let config: string;
let src: string;
let dst: string;

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  src = join(work, 'src');
  dst = join(work, 'dst');
  await makeMaildir(src, [
    { dir: '', messages: [1, 2, 3].map((n) => message(`160000000${n}.M${n}P1.host`, `inbox ${n}`, { flags: 'S' })) },
  ]);
  await mailboxStatus(config, src, 'INBOX');
});

afterEach(() => removeDir(work));

/** Each file under a directory with its inode and mtime: equal values mean nothing was written. */
async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const s = await stat(path);
    out[path] = `${s.ino} ${s.mtimeMs}`;
  }
  return out;
}

describe.each([localTransport, serveTransport])('a replica with a UIDVALIDITY of its own ($name)', (t: SideTransport) => {
  it('is left alone by a backup with no change: no uidlist, no state written, nothing counted', async () => {
    const cli = cliVia(t, work);
    await t.prepare?.(work);
    const backup = (...more: string[]): ReturnType<typeof cli> => cli(['backup', src, t.endpoint(dst), ...more]);
    expect((await backup()).code).toBe(0);
    const before = (await mailboxStatus(config, dst, 'INBOX')).uidvalidity;
    await doveadmSave(config, dst, 'INBOX', mailText('delivered-to-replica'));
    await doveadmSave(config, src, 'INBOX', mailText('delivered-to-source'));
    const renewal = await backup();
    expect(renewal.code).toBe(0);
    expect(renewal.stderr).toMatch(/INBOX: .*UIDVALIDITY/);
    const renewed = (await mailboxStatus(config, dst, 'INBOX')).uidvalidity;
    expect(renewed).toBeGreaterThan(before);

    const uidlist = await files(join(dst));
    const state = await files(join(work, 'state'));
    const again = await backup('--json');
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    const summary = (JSON.parse(again.stdout) as { summary: Record<string, Record<string, number>> }).summary;
    for (const [what, counts] of Object.entries(summary)) expect(counts, what).toEqual({ a: 0, b: 0 });
    expect(await files(join(dst)), "the replica's files").toEqual(uidlist);
    expect(await files(join(work, 'state')), 'the state').toEqual(state);
    expect((await mailboxStatus(config, dst, 'INBOX')).uidvalidity).toBe(renewed);
  });
});
