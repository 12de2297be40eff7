// A side whose identity changed and that holds a small fraction of what the state knew is unmounted.
// (A mount point with a skeleton Postfix made and one delivery had the whole mailbox copied onto it.)

import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFolder, makeMaildir, mailText, message, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

const COUNT = 200;

describe.each<[string, SideTransport]>([
  ['local', localTransport],
  ['mdsync serve', serveTransport],
])('an unmounted side with a fresh skeleton and one delivery (%s)', (_name, t) => {
  it.each([false, true])('is refused with exit 3 and nothing copied; --force runs (arguments reversed: %s)', async (reversed) => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    const b = join(work, 'mnt');
    await makeMaildir(a, [{ dir: '', messages: Array.from({ length: COUNT }, (_, i) => message(`16000${String(i).padStart(5, '0')}.M${i}P1.host`, `m${i}`, { flags: 'S' })) }]);
    const cli = cliVia(t, home);
    const pair = reversed ? [t.endpoint(b), a] : [a, t.endpoint(b)];
    const first = await cli(['sync', a, t.endpoint(b)]);
    expect(first.code, first.stderr).toBe(0);
    expect((await messageFiles(b)).length).toBe(COUNT);
    // The filesystem goes away; the MTA makes a skeleton under the mount point and delivers one.
    await rename(b, join(work, 'unmounted'));
    await makeFolder(b, { dir: '', messages: [] });
    await writeFile(join(b, 'new', '1700000000.M1P1.mx'), mailText('delivered'));

    const refused = await cli(['sync', ...pair]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/unmounted/);
    expect(refused.stderr).toContain(b);
    expect(refused.stderr).toContain(`${COUNT}`);
    expect(await readdir(join(b, 'cur'))).toEqual([]);
    expect(await readdir(join(b, 'new'))).toEqual(['1700000000.M1P1.mx']);
    expect((await messageFiles(a)).length).toBe(COUNT);

    const forced = await cli(['sync', ...pair, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await messageFiles(b)).length).toBe(COUNT + 1);
    expect((await messageFiles(a)).length).toBe(COUNT + 1);
  });
});
