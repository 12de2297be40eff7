// Either side remote, or both: the first side served, and two served sides synced and verified.

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf } from '../helpers/cli.js';
import { addMessage, contentsByFolder, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, serveTransport } from '../helpers/transports.js';

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [
    { dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' }), message('1600000002.M2P1.host', 'two', { location: 'new' })] },
    { dir: '.Work', messages: [message('1600000003.M3P1.host', 'three', { flags: 'FS' })] },
  ], ['Work']);
});

afterEach(async () => {
  await removeDir(work);
});

describe('remote sides', () => {
  const far = serveTransport.endpoint;

  it('backs up from a remote source to a local replica', async () => {
    const cli = cliVia(serveTransport, work);
    const r = await cli(['backup', far(a), b, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonOf(r).wire.a?.received).toBeGreaterThan(0);
    expect(await contentsByFolder(b)).toEqual(await contentsByFolder(a));
  });

  it('syncs two remote sides both ways and verifies them', async () => {
    const cli = cliVia(serveTransport, work);
    expect((await cli(['sync', far(a), far(b)])).code).toBe(0);
    await addMessage(b, '.Work', message('1600000009.M9P1.host', 'from b', { flags: 'S' }));
    await addMessage(a, '', message('1600000008.M8P1.host', 'from a', { location: 'new' }));
    const r = await cli(['sync', far(a), far(b), '--json']);
    expect(r.code).toBe(0);
    expect(jsonOf(r).bytes).toBeGreaterThan(0);
    expect(await contentsByFolder(b)).toEqual(await contentsByFolder(a));
    const v = await cli(['verify', far(a), far(b)]);
    expect(v.stdout).toContain('identical: 2 folders, 5 messages');
    expect(v.code).toBe(0);
  });
});
