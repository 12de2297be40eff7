// A message the last sync recorded on both sides whose file one side's scan now skips (a directory
// or a symlink put under its name, or a name an earlier version synced and this one refuses) is
// neither held nor expunged there: the other side's copy stays, and the record with it, locally
// and through `mdsync serve`. (The skipped file looked expunged: a sync removed the other side's
// copy, and a backup its replica's.)

import { lstat, mkdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeMaildir, message, messageFiles, removeDir, tempDir, type TreeFile } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const transports: SideTransport[] = [localTransport, serveTransport];

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
});

afterEach(async () => {
  await removeDir(work);
});

const KEPT = message('1600000001.M1P1.host', 'kept', { flags: 'S' });
const OTHER = message('1600000002.M2P1.host', 'other', { location: 'new' });

const inCur = (f: TreeFile): boolean => f.path.startsWith('cur/');
const shas = (files: TreeFile[]): string[] => files.map((f) => f.sha).sort();

describe.each(transports.map((t) => [t.name, t] as const))('a recorded message whose file is skipped on one side, %s', (_name, transport) => {
  it.each([
    ['backup', 'a', 'directory'], ['backup', 'a', 'symlink'], ['sync', 'a', 'directory'], ['sync', 'b', 'symlink'],
  ] as const)('%s, skipped on %s as a %s: the other side keeps its copy, and the pair meets again once the file is back', async (mode, skippedOn, kind) => {
    await makeMaildir(a, [{ dir: '', messages: [KEPT, OTHER] }]);
    await makeMaildir(b, [{ dir: '', messages: [] }]);
    await transport.prepare?.(work);
    const cli = cliVia(transport, work);
    // The side whose file is skipped is the far one: its skipped names cross the wire.
    const ends = skippedOn === 'a' ? [transport.endpoint(a), b] : [a, transport.endpoint(b)];

    const first = await cli([mode, ...ends]);
    expect(first.code, first.stderr).toBe(0);
    expect(shas(await messageFiles(b))).toEqual(shas(await messageFiles(a)));

    const [skippedRoot, otherRoot] = skippedOn === 'a' ? [a, b] : [b, a];
    const [file] = (await messageFiles(skippedRoot)).filter(inCur);
    if (!file) throw new Error('no message in cur/ after the first run');
    const path = join(skippedRoot, file.path);
    const aside = join(work, 'aside');
    await rename(path, aside);
    if (kind === 'directory') await mkdir(path);
    else await symlink(aside, path);
    const otherBefore = await messageFiles(otherRoot);

    // Twice: once told as a change since the cached listing, once from a whole listing (no cache).
    for (const run of ['first', 'second']) {
      if (run === 'second') await rm(join(work, 'cache'), { recursive: true, force: true });
      const r = await cli([mode, ...ends]);
      expect(r.code, `${run} run after the file was skipped: ${r.stderr}`).toBe(0);
      expect(r.stderr).toContain('not a regular file');
      expect(await messageFiles(otherRoot), `${run} run: the other side's files`).toEqual(otherBefore);
      const st = await lstat(path);
      expect(kind === 'directory' ? st.isDirectory() : st.isSymbolicLink()).toBe(true);
    }

    await rm(path, { recursive: true });
    await rename(aside, path);
    const back = await cli([mode, ...ends]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).not.toContain('warning');
    const filesA = await messageFiles(a);
    const filesB = await messageFiles(b);
    expect(filesA).toHaveLength(2);
    expect(shas(filesB)).toEqual(shas(filesA));
    expect(await readFile(path, 'utf8')).toBe(KEPT.body);
  });
});
