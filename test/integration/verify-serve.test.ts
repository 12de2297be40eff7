// verify with a served far side: the far side hashes its messages and only the hashes cross;
// a difference in the bytes there is still found.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileName, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, proxyTransport } from '../helpers/transports.js';

describe('verify over mdsync serve', () => {
  let work: string;
  let log: string;

  beforeEach(async () => {
    work = await tempDir();
    log = join(work, 'requests.log');
  });

  afterEach(async () => {
    await removeDir(work);
  });

  it('asks the far side for hashes, never for the bodies, and still finds bytes that differ', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    const one = message('1600000001.M1P1.h', 'one', { flags: 'S' });
    for (const root of [a, b]) {
      await makeMaildir(root, [
        { dir: '', messages: [one, message('1600000002.M2P1.h', 'two', { location: 'new' })] },
        { dir: '.Work', messages: [message('1600000003.M3P1.h', 'three', { flags: 'FS' })] },
      ]);
    }
    const t = proxyTransport(`record:${log}`);
    const same = await cliVia(t, work)(['verify', a, t.endpoint(b)]);
    expect(same.stdout).toBe('identical: 2 folders, 3 messages\n');
    expect(same.code).toBe(0);
    const methods = (await readFile(log, 'utf8')).trim().split('\n').map((line) => (JSON.parse(line) as [string])[0]);
    expect(methods).toContain('checksum');
    expect(methods).not.toContain('read');

    // The same size, other bytes: only a hash tells them apart.
    const path = join(b, 'cur', fileName(one));
    const body = await readFile(path, 'utf8');
    await writeFile(path, body.replace('Body of one', 'Body of 1ne'));
    const differ = await cliVia(t, work)(['verify', a, t.endpoint(b)]);
    expect(differ.stdout).toContain('content differs');
    expect(differ.code).toBe(1);
  });
});
