// Reading a folder's messages as a sync does: in the order asked, a batch at a time; a large body
// (a stream) and a message gone since the listing come alone in their batches.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStream } from '../../../src/body.js';
import { LocalAgent } from '../../../src/local/agent.js';
import type { ReadResult } from '../../../src/model.js';
import { bulkFolder, makeMaildir, message, removeDir, tempDir, type MessageSpec } from '../../helpers/maildir.js';

let dir: string;
let root: string;
const small = bulkFolder('', 0, 40).messages;
const big: MessageSpec = (() => {
  const m = message('1700000000.M1P1.big', 'big');
  const body = m.body + 'z'.repeat(3 * 1024 * 1024);
  return { ...m, base: `1700000000.M1P1.big,S=${body.length}`, body };
})();
// The large one in the middle: the small ones before and after it are read in batches of their own.
const all = [...small.slice(0, 25), big, ...small.slice(25)];

beforeEach(async () => {
  dir = await tempDir();
  root = join(dir, 'Maildir');
  await makeMaildir(root, [{ dir: '', messages: all }]);
});
afterEach(async () => removeDir(dir));

async function readAll(agent: LocalAgent, guids: string[]): Promise<{ batches: string[][]; bodies: Map<string, string>; vanished: string[] }> {
  const batches: string[][] = [];
  const bodies = new Map<string, string>();
  const vanished: string[] = [];
  for await (const batch of agent.read('INBOX', guids)) {
    batches.push(batch.map((r: ReadResult) => r.guid));
    for (const got of batch) {
      if (got.vanished) vanished.push(got.guid);
      else if (got.data && isStream(got.data)) {
        const parts: Uint8Array[] = [];
        for await (const chunk of got.data.chunks) parts.push(chunk);
        bodies.set(got.guid, Buffer.concat(parts).toString());
      } else if (got.data) bodies.set(got.guid, Buffer.from(got.data).toString());
    }
  }
  return { batches, bodies, vanished };
}

describe('reading messages', () => {
  it('comes in order, in batches, a large body alone in its batch, every byte as on disk', async () => {
    const agent = await LocalAgent.open(root, { cacheDir: join(dir, 'cache') });
    try {
      await agent.listFolders();
      const guids = all.map((m) => m.base);
      const { batches, bodies, vanished } = await readAll(agent, guids);
      expect(batches.flat()).toEqual(guids);
      expect(batches).toEqual([guids.slice(0, 25), [big.base], guids.slice(26)]);
      expect(vanished).toEqual([]);
      for (const m of all) expect(bodies.get(m.base)).toBe(m.body);
    } finally {
      await agent.close();
    }
  });

  it('tells of a message gone since the listing alone, and reads on', async () => {
    const agent = await LocalAgent.open(root, { cacheDir: join(dir, 'cache') });
    try {
      await agent.listFolders();
      const gone = small[10] as MessageSpec;
      await rm(join(root, 'cur', `${gone.base}:2,S`));
      const guids = small.map((m) => m.base);
      const { batches, bodies, vanished } = await readAll(agent, guids);
      expect(batches).toEqual([guids.slice(0, 10), [gone.base], guids.slice(11)]);
      expect(vanished).toEqual([gone.base]);
      expect(bodies.size).toBe(39);
      for (const m of small) if (m !== gone) expect(bodies.get(m.base)).toBe(m.body);
    } finally {
      await agent.close();
    }
  });
});
