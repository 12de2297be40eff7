// A far side that bends its answer to `changes`: a clear protocol error, nothing changed on either side.

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf } from '../helpers/cli.js';
import { addMessage, contentsByFolder, makeMaildir, message, readTree, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, proxyTransport, serveTransport } from '../helpers/transports.js';

const arrived = message('1600000009.M9P1.host', 'arrived on the far side', { location: 'new' });
let work: string;
let local: string;
let remote: string;

beforeEach(async () => {
  work = await tempDir();
  local = join(work, 'local');
  remote = join(work, 'remote');
  await makeMaildir(local, [{ dir: '', messages: [1, 2, 3].map((n) => message(`160000000${n}.M${n}P1.host`, `message ${n}`, { flags: 'S' })) }]);
  const first = await cliVia(serveTransport, work)(['sync', local, serveTransport.endpoint(remote)]);
  expect(first.code).toBe(0);
  // A message the far side will tell as changed since the last sync.
  await addMessage(remote, '', arrived);
});

afterEach(async () => {
  await removeDir(work);
});

describe('a far side answering changes with what cannot be right', () => {
  it.each([
    ['evil-guid', /protocol error: answer to changes\.changed\[0\]\[0\]: GUID "\.\.\/x" contains "\/"/],
    ['slash-gone', /protocol error: answer to changes\.gone\[0\]: GUID "cur\/x" contains "\/"/],
    ['tmp-location', /protocol error: answer to changes\.changed\[0\]\[3\]: expected one of new, cur, got "tmp"/],
    ['bad-hash', /protocol error: answer to changes\.changed\[0\]\[7\]: expected a SHA-256 in hex/],
    ['changed-and-gone', new RegExp(`protocol error: answer to changes\\.gone\\[0\\] \\(folder "INBOX"\\): GUID "${arrived.base}" is also in changes\\.changed\\[0\\]`)],
  ])('%s: exit 1 naming the far side and the field, nothing written, and the next honest run converges', async (alteration, text) => {
    const before = { local: await readTree(local), remote: await readTree(remote) };
    const r = await cliVia(proxyTransport(`changes:${alteration}`), work)(['sync', local, serveTransport.endpoint(remote)]);
    expect(r.stderr).toMatch(new RegExp(`localhost:${remote}: ${text.source}`));
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await readTree(local)).toEqual(before.local);
    expect(await readTree(remote)).toEqual(before.remote);

    const honest = await cliVia(serveTransport, work)(['sync', local, serveTransport.endpoint(remote), '--json']);
    expect(honest.code).toBe(0);
    expect(jsonOf(honest).summary.copied).toEqual({ a: 1, b: 0 });
    expect(await contentsByFolder(local)).toEqual(await contentsByFolder(remote));
    expect((await contentsByFolder(local)).get('INBOX')).toHaveLength(4);
  });
});
