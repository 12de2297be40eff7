// A whole protocol session over an in-memory pipe: RemoteAgent on one end, serveSession on the other.

import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../../src/local/agent.js';
import type { FolderChanges, FolderManifest, MessageEntry } from '../../../src/model.js';
import { MANIFEST_PAGE } from '../../../src/protocol/limits.js';
import { RemoteAgent } from '../../../src/protocol/remote-agent.js';
import { serveSession } from '../../../src/protocol/server.js';
import type { Agent } from '../../../src/sync/agent.js';
import { runSync } from '../../../src/sync/run.js';
import type { SyncState } from '../../../src/sync/state.js';
import { makeMaildir, message, messageFiles, removeDir, tempDir } from '../../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

/** Connects a RemoteAgent to a session serving `open()`, through two in-memory pipes. */
async function connect(open: () => Promise<Agent>): Promise<{ remote: RemoteAgent; served: Promise<number>; log: string[] }> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const log: string[] = [];
  const served = serveSession(toServer, toClient, { open, log: (line) => log.push(line) });
  const remote = await RemoteAgent.connect({
    input: toClient,
    output: toServer,
    failure: async () => undefined,
    close: async () => undefined,
  }, 'test', {}, 10_000);
  return { remote, served, log };
}

function memoryState(): { loadState(): Promise<{ state?: SyncState }>; saveState(s: SyncState): Promise<void> } {
  let saved: SyncState | undefined;
  return {
    loadState: async () => (saved ? { state: structuredClone(saved) } : {}),
    saveState: async (s) => { saved = structuredClone(s); },
  };
}

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('a protocol session', () => {
  it('backs up to a served side, large messages streamed in chunks, both ways', async () => {
    const src = join(work, 'src');
    const dst = join(work, 'dst');
    await makeMaildir(src, [
      { dir: '', messages: [message('1600000001.M1P1.host', 'small', { flags: 'S', mtime: new Date('2020-01-01T00:00:00Z') })] },
      { dir: '.Big', messages: [] },
    ]);
    // Two bodies over the 1 MiB inline limit: 5 MiB + 17 bytes and 3 MiB exactly.
    const big = Buffer.alloc(5 * 1024 * 1024 + 17, 'x');
    big.write('Subject: big\n\n', 0);
    const exact = Buffer.alloc(3 * 1024 * 1024, 'y');
    await writeFile(join(src, '.Big', 'cur', '1600000002.M2P1.host:2,S'), big);
    await writeFile(join(src, '.Big', 'new', '1600000003.M3P1.host'), exact);
    const { remote, served } = await connect(() => LocalAgent.open(dst, { create: true, cacheDir: join(work, 'cache-b') }));
    const local = await LocalAgent.open(src, { cacheDir: join(work, 'cache-a') });
    const result = await runSync(local, remote, { mode: 'backup', ...memoryState() });
    expect(result.summary).toBeDefined();
    await local.close();
    await remote.close();
    expect(await served).toBe(0);
    const strip = (t: Awaited<ReturnType<typeof messageFiles>>): unknown => t.map(({ path, sha: s, mtimeMs }) => ({ path, sha: s, mtimeMs }));
    expect(strip(await messageFiles(dst))).toEqual(strip(await messageFiles(src)));
    expect(sha(await readFile(join(dst, '.Big', 'cur', '1600000002.M2P1.host:2,S')))).toBe(sha(big));

    // And back: the served side is now the source, its large bodies pulled chunk by chunk.
    const back = join(work, 'back');
    const again = await connect(() => LocalAgent.open(dst, { cacheDir: join(work, 'cache-b') }));
    const target = await LocalAgent.open(back, { create: true, cacheDir: join(work, 'cache-c') });
    await runSync(again.remote, target, { mode: 'backup', ...memoryState() });
    await target.close();
    await again.remote.close();
    expect(strip(await messageFiles(back))).toEqual(strip(await messageFiles(src)));
  });

  it('pages a manifest larger than one frame and answers many requests in flight', async () => {
    const entries: MessageEntry[] = Array.from({ length: 2 * MANIFEST_PAGE + 123 }, (_, i) => ({
      guid: `${1600000000 + i}.M${i}P1.host`, flags: i % 2 ? 'S' : '', keywords: i % 3 ? [] : ['$Label1'], location: 'cur', uid: i + 1,
    }));
    const manifest: FolderManifest = { name: 'INBOX', digest: 'd'.repeat(32), messages: entries, uidValidity: 1234, nextUid: entries.length + 1 };
    let hashCalls = 0;
    const agent = {
      hello: async () => ({ id: 'x', version: 'v', layout: 'maildir++' as const, root: '/r' }),
      manifest: async () => manifest,
      hash: async (_folder: string, guids: string[]) => {
        hashCalls++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return guids.map((g) => sha(Buffer.from(g)));
      },
      close: async () => undefined,
    } as unknown as Agent;
    const { remote, served } = await connect(async () => agent);
    const got = await remote.manifest('INBOX');
    expect(got.messages).toEqual(entries);
    expect(got.uidValidity).toBe(1234);
    const guids = Array.from({ length: 200 }, (_, i) => `g${i}`);
    const hashes = await Promise.all(guids.map((g) => remote.hash('INBOX', [g])));
    expect(hashes.map((h) => h[0])).toEqual(guids.map((g) => sha(Buffer.from(g))));
    expect(hashCalls).toBe(200);
    await remote.close();
    expect(await served).toBe(0);
  });

  it('refuses a streamed body shorter than announced and leaves no file behind', async () => {
    const dst = join(work, 'dst');
    await makeMaildir(dst, [{ dir: '', messages: [] }]);
    const { remote } = await connect(() => LocalAgent.open(dst, { cacheDir: join(work, 'cache') }));
    async function* short(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(1024 * 1024, 'a');
      yield Buffer.alloc(10, 'b');
    }
    const delivery = { guid: '1600000005.M5P1.host', flags: 'S', keywords: [], location: 'cur' as const, mtime: Date.now() };
    await expect(remote.deliver('INBOX', [{ ...delivery, data: { size: 3 * 1024 * 1024, chunks: short() } }]))
      .rejects.toThrow(/announced as 3145728 bytes but only 1048586 arrived/);
    expect(await readdir(join(dst, 'cur'))).toEqual([]);
    expect(await readdir(join(dst, 'tmp'))).toEqual([]);
    // The session goes on: a whole delivery still works.
    const placed = await remote.deliver('INBOX', [{ ...delivery, data: Buffer.from('Subject: ok\n\nok\n') }]);
    expect(placed[0]?.existed).toBe(false);
    expect((await stat(join(dst, 'cur', '1600000005.M5P1.host:2,S'))).size).toBe(16);
    await remote.close();
  });
});

describe('changes over a session', () => {
  const since = '0123456789abcdef0123456789abcdef';
  const entry: MessageEntry = { guid: '1600000001.M1P1.host,S=120', flags: 'FS', keywords: ['$Label1'], location: 'cur', size: 120, uid: 7, hash: 'ab'.repeat(32) };

  /** A served agent that tells `told` for any folder and digest, and counts the questions. */
  function telling(told: FolderChanges | undefined, withChanges = true): { agent: Agent; asked: [string, string][] } {
    const asked: [string, string][] = [];
    const agent = {
      hello: async () => ({ id: 'x', version: 'v', layout: 'maildir++' as const, root: '/r' }),
      close: async () => undefined,
      ...(withChanges ? { changes: async (folder: string, digest: string) => { asked.push([folder, digest]); return told; } } : {}),
    } as unknown as Agent;
    return { agent, asked };
  }

  it('carries the entries changed, with hash and UID, and the GUIDs gone', async () => {
    const { agent, asked } = telling({ changed: [entry], gone: ['1600000002.M2P1.host,S=99'] });
    const { remote, served } = await connect(async () => agent);
    expect(await remote.changes('Work', since)).toEqual({ changed: [entry], gone: ['1600000002.M2P1.host,S=99'] });
    expect(asked).toEqual([['Work', since]]);
    await remote.close();
    expect(await served).toBe(0);
  });

  it('is undefined when the far side cannot tell, has no such operation, or has more than a page of changes', async () => {
    const many = Array.from({ length: MANIFEST_PAGE }, (_, i) => `g${i}`);
    const cases: [FolderChanges | undefined, boolean][] = [[undefined, true], [{ changed: [], gone: [] }, false], [{ changed: [entry], gone: many }, true]];
    for (const [told, withChanges] of cases) {
      const { agent } = telling(told, withChanges);
      const { remote, served } = await connect(async () => agent);
      expect(await remote.changes('INBOX', since)).toBeUndefined();
      await remote.close();
      expect(await served).toBe(0);
    }
  });

  it('does not ask with a digest this version does not write (a state from an older one)', async () => {
    const { agent, asked } = telling({ changed: [], gone: [] });
    const { remote, served } = await connect(async () => agent);
    expect(await remote.changes('INBOX', 'd'.repeat(40))).toBeUndefined();
    expect(await remote.changes('INBOX', since)).toEqual({ changed: [], gone: [] });
    expect(asked).toEqual([['INBOX', since]]);
    await remote.close();
    expect(await served).toBe(0);
  });
});
