// A destination on a small real tmpfs: the disk fills mid-run, or the filesystem turns read-only.
// The run exits 1 saying what happened and where; no partial message is ever visible; the state
// claims nothing that is not on disk; once space is back (or the disk writable) a re-run is exact.

import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { addMessage, bulkFolder, makeMaildir, message, messageFiles, readTree, removeDir, tempDir } from '../helpers/maildir.js';
import { namesOnDisk, stateClaims } from '../helpers/state.js';

let work: string;
let a: string;
let mnt: string;
let b: string;

const mount = (...args: string[]): void => {
  execFileSync('mount', args);
};

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  mnt = join(work, 'mnt');
  b = join(mnt, 'replica');
  // About 1.2 MB of mail for a 512 KB filesystem.
  await makeMaildir(a, [bulkFolder('', 0, 150), bulkFolder('.Lists', 1000, 150), bulkFolder('.Work', 2000, 100)], ['Lists', 'Work']);
  await mkdir(mnt);
  mount('-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt);
});

afterEach(async () => {
  execFileSync('umount', ['-l', mnt]);
  await removeDir(work);
});

/** Every message file on the side holds the whole of some source message: nothing partial is visible. */
async function expectOnlyWholeMessages(): Promise<void> {
  const source = new Set((await messageFiles(a)).map((f) => f.sha));
  const replica = await messageFiles(b);
  for (const f of replica) expect(source.has(f.sha), `${f.path} is not a whole message`).toBe(true);
  for (const f of await readTree(b)) expect(f.path, 'a temp file left behind').not.toMatch(/(^|\/)tmp\/[^/]+$/);
}

async function expectStateTrue(): Promise<void> {
  const claims = await stateClaims(work);
  const onDisk = await namesOnDisk(b);
  expect([...claims.b].filter((k) => !onDisk.has(k)), 'the state claims messages the replica does not hold').toEqual([]);
}

describe.each(['backup', 'sync'] as const)('%s onto a small tmpfs', (mode) => {
  it('disk full: exit 1 naming the disk and the place, nothing partial, state true; exact after space is freed', async () => {
    const r = await runCli([mode, a, b], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^mdsync: disk full while \\w+ ${b}/\\S+: free some space and run again\\n`, 'm'));
    expect(r.stderr).not.toContain('    at ');
    const placed = (await messageFiles(b)).length;
    expect(placed).toBeGreaterThan(0);
    expect(placed).toBeLessThan(400);
    await expectOnlyWholeMessages();
    await expectStateTrue();
    expect((await messageFiles(a)).length, 'the source is untouched').toBe(400);

    mount('-o', 'remount,size=16m', mnt);
    const again = await runCli([mode, a, b], work);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect((await runCli(['verify', a, b], work)).code).toBe(0);
    expect(await messageFiles(b)).toHaveLength(400);
  });

  it('read-only destination: exit 1 saying so, nothing lost on either side; exact once writable', async () => {
    mount('-o', 'remount,size=16m', mnt);
    expect((await runCli([mode, a, b], work)).code).toBe(0);
    for (const n of [1, 2, 3]) await addMessage(a, '', message(`17000000${n}.M${n}P8.host`, `late ${n}`));
    mount('-o', 'remount,ro', mnt);
    const r = await runCli([mode, a, b], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^mdsync: Maildir ${b} cannot be written \\(read-only filesystem\\): it cannot be locked`, 'm'));
    expect(r.stderr).not.toContain('    at ');
    expect(await messageFiles(a)).toHaveLength(403);
    expect(await messageFiles(b)).toHaveLength(400);
    await expectStateTrue();

    mount('-o', 'remount,rw', mnt);
    const again = await runCli([mode, a, b], work);
    expect(again.code, again.stderr).toBe(0);
    expect((await runCli(['verify', a, b], work)).code).toBe(0);
    expect(await messageFiles(b)).toHaveLength(403);
  });
});
