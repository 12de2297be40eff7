// Over the protocol: partial listings only for a client that asks for them, and the folders a far
// side saw changed since it listed them reach the client (none from a side that cannot tell).

import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../../src/local/agent.js';
import { RemoteAgent } from '../../../src/protocol/remote-agent.js';
import type { OpenRequest } from '../../../src/protocol/hello.js';
import { serveSession } from '../../../src/protocol/server.js';
import { makeMaildir, message, removeDir, tempDir } from '../../helpers/maildir.js';

let work: string;
let root: string;

beforeEach(async () => {
  work = await tempDir();
  root = join(work, 'm');
  await makeMaildir(root, [{ dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] }]);
});

afterEach(() => removeDir(work));

/** A RemoteAgent on a session serving `root`; `requests` gets what each open was asked. */
async function connect(request: OpenRequest, requests: OpenRequest[]): Promise<RemoteAgent> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  void serveSession(toServer, toClient, {
    open: async (asked) => {
      requests.push(asked);
      return LocalAgent.open(root, { ...asked, cacheDir: join(work, 'cache') });
    },
    log: () => undefined,
  });
  return RemoteAgent.connect({ input: toClient, output: toServer, failure: async () => undefined, close: async () => undefined }, 'test', request, 10_000);
}

describe('partial listings and changes since listed, over the protocol', () => {
  it('lists partially only for a client that asks (an older one never reads the mark)', async () => {
    const requests: OpenRequest[] = [];
    for (const partialListings of [true, false]) {
      const remote = await connect({ partialListings }, requests);
      await remote.close();
    }
    expect(requests.map((r) => r.partialListings)).toEqual([true, false]);
  });

  it('names a folder another program changed after it was listed', async () => {
    const remote = await connect({}, []);
    try {
      await remote.lock();
      await remote.listFolders();
      expect((await remote.drainWarnings()).changed).toEqual([]);
      await writeFile(join(root, 'tmp', '1600000002.M2P1.host'), 'Subject: two\r\n\r\ntwo\r\n');
      await rename(join(root, 'tmp', '1600000002.M2P1.host'), join(root, 'new', '1600000002.M2P1.host'));
      expect((await remote.drainWarnings()).changed).toEqual(['INBOX']);
    } finally {
      await remote.close();
    }
  });
});
