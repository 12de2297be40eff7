// A folder deleted on one side was left half-removed on the other when Dovecot had rotated its
// transaction log there: dovecot.index.log.2 was not among the files removed with the folder, so
// the directory stayed (holding only that file), and the folder was listed again as damaged.

import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [bulkFolder('', 0, 2), bulkFolder('.Old', 0, 0)]);
});

afterEach(() => removeDir(work));

describe('a folder deleted while Dovecot had rotated its index log', () => {
  it('folder-deleted-with-rotated-index-log: the other side loses the whole folder, its rotated log too', async () => {
    const run = (args: string[]): ReturnType<typeof runCli> => runCli(args, work);
    expect((await run(['sync', a, b])).code).toBe(0);
    expect(await readdir(b)).toContain('.Old');
    for (const f of ['dovecot.index', 'dovecot.index.log', 'dovecot.index.log.2', 'dovecot.index.cache']) await writeFile(join(b, '.Old', f), 'index');
    await removeDir(join(a, '.Old'));
    const res = await run(['sync', a, b]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readdir(b)).not.toContain('.Old');
    const again = await run(['sync', a, b]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    expect(await readdir(a)).not.toContain('.Old');
  });
});
