// A far side that bends its answer to `deliver`: a clear protocol error, nothing lost, and the next
// honest run converges without a message written twice.

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentsByFolder, makeMaildir, message, readTree, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, proxyTransport, serveTransport } from '../helpers/transports.js';

let work: string;
let local: string;
let remote: string;

beforeEach(async () => {
  work = await tempDir();
  local = join(work, 'local');
  remote = join(work, 'remote');
  await makeMaildir(local, [
    { dir: '', messages: [1, 2, 3].map((n) => message(`160000000${n}.M${n}P1.host`, `message ${n}`, { flags: 'S' })) },
    { dir: '.Work', messages: [message('1600000004.M4P1.host', 'message 4', { location: 'new' })] },
  ]);
});

afterEach(async () => {
  await removeDir(work);
});

describe('a far side answering deliver with what cannot be right', () => {
  it.each([
    ['short-hashes', /protocol error: answer to deliver\.hashes \(folder "(INBOX|Work)"\): \d+ bytes for \d messages \(32 each\)/],
    ['existed-2', /protocol error: answer to deliver\.existed\[0\] \(folder "(INBOX|Work)"\): expected 0 or 1, got 2/],
    ['out-of-range', /protocol error: answer to deliver\.others\[0\]\.at \(folder "(INBOX|Work)"\): message \d of \d/],
    ['named-twice', /protocol error: answer to deliver\.others\[1\]\.at \(folder "(INBOX|Work)"\): message 0 named twice/],
    ['evil-guid', /protocol error: answer to deliver\.others\[0\]\.guid: GUID "\.\.\/x" contains "\/"/],
  ])('%s: exit 1 naming the far side and the field, the source untouched; the next honest run places each message once', async (alteration, text) => {
    const source = await readTree(local);
    const r = await cliVia(proxyTransport(`place:${alteration}`), work)(['backup', local, serveTransport.endpoint(remote)]);
    expect(r.stderr).toMatch(new RegExp(`localhost:${remote}: ${text.source}`));
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await readTree(local)).toEqual(source);

    const honest = await cliVia(serveTransport, work)(['backup', local, serveTransport.endpoint(remote)]);
    expect(honest.stderr).toBe('');
    expect(honest.code).toBe(0);
    expect(await readTree(local)).toEqual(source);
    expect(await contentsByFolder(remote)).toEqual(await contentsByFolder(local));
    const verify = await cliVia(serveTransport, work)(['verify', local, serveTransport.endpoint(remote)]);
    expect(verify.code).toBe(0);
  });
});
