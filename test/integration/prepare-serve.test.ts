// A served far side is told which folders the run will write before the first write, and only those;
// a folder new to it is created staged, and an empty one it has is staged, and published before
// anything is committed.

import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addMessage, fileName, makeMaildir, message, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, proxyTransport, serveTransport } from '../helpers/transports.js';

/** The requests the far side received, in order: [method], or with the folders it names (see peer-proxy's record mode). */
async function requests(log: string): Promise<[string, string[]?][]> {
  return (await readFile(log, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as [string, string[]?]);
}

/** The same message files (paths with flags, bytes, mtimes) on both sides. */
async function expectSame(a: string, b: string): Promise<void> {
  const strip = (files: Awaited<ReturnType<typeof messageFiles>>): unknown[] => files.map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));
  expect(strip(await messageFiles(b))).toEqual(strip(await messageFiles(a)));
}

describe('prepare: the folders a run will write, told to a served far side', () => {
  let work: string;
  let log: string;

  beforeEach(async () => {
    work = await tempDir();
    log = join(work, 'requests.log');
  });

  afterEach(async () => {
    await removeDir(work);
  });

  it('names every folder a first copy fills, before the first delivery, then only the folders a later run writes', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    const three = message('1600000003.M3P1.h', 'three');
    await makeMaildir(a, [
      { dir: '', messages: [message('1600000001.M1P1.h', 'one'), message('1600000002.M2P1.h', 'two')] },
      { dir: '.Work', messages: [three, message('1600000004.M4P1.h', 'four', { flags: 'S' })] },
      { dir: '.Archive', messages: [message('1600000005.M5P1.h', 'five')] },
    ]);
    const t = proxyTransport(`record:${log}`);
    const first = await cliVia(t, work)(['backup', a, t.endpoint(b)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    await expectSame(a, b);
    const asked = await requests(log);
    const prepares = asked.filter(([m]) => m === 'prepare');
    expect(prepares).toHaveLength(1);
    expect([...(prepares[0]?.[1] ?? [])].sort()).toEqual(['Archive', 'INBOX', 'Work']);
    expect(asked.findIndex(([m]) => m === 'prepare')).toBeLessThan(asked.findIndex(([m]) => m === 'deliver'));
    // Work and Archive are new there: created staged before their first delivery, published after
    // it and before the commit that makes the run's writes durable.
    const at = (method: string, folder?: string): number => asked.findIndex(([m, f]) => m === method && (folder === undefined || f?.[0] === folder));
    for (const folder of ['Work', 'Archive']) {
      expect(asked[at('createFolder', folder)]).toEqual(['createFolder', [folder, 'staged']]);
      expect(at('createFolder', folder)).toBeLessThan(at('deliver'));
      expect(at('publishFolder', folder)).toBeGreaterThan(at('deliver'));
      expect(at('publishFolder', folder)).toBeLessThan(at('commit'));
    }
    expect(await readdir(join(b, 'tmp'))).toEqual([]);

    // A new message in Archive and a flag change in Work; INBOX as it was.
    await addMessage(a, '.Archive', message('1600000006.M6P1.h', 'six'));
    await rename(join(a, '.Work', 'cur', fileName(three)), join(a, '.Work', 'cur', fileName({ ...three, flags: 'F' })));
    await removeDir(log);
    const second = await cliVia(t, work)(['backup', a, t.endpoint(b)]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    await expectSame(a, b);
    const again = (await requests(log)).filter(([m]) => m === 'prepare');
    expect(again).toHaveLength(1);
    expect([...(again[0]?.[1] ?? [])].sort()).toEqual(['Archive', 'Work']);
  });

  it('has the new/ and cur/ of the far side\'s empty folders built aside (a Sent Dovecot made, INBOX), published before the commit', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [
      { dir: '', messages: [message('1600000001.M1P1.h', 'one'), message('1600000002.M2P1.h', 'two', { location: 'new' })] },
      { dir: '.Sent', keywords: ['work'], messages: [message('1600000003.M3P1.h', 'three', { letters: 'a', flags: 'S' })] },
      { dir: '.Drafts', messages: [] },
    ]);
    // The far side as Dovecot leaves a mailbox at its first login: INBOX and Sent, empty.
    await makeMaildir(b, [{ dir: '', messages: [] }, { dir: '.Sent', messages: [] }]);
    const t = proxyTransport(`record:${log}`);
    const run = await cliVia(t, work)(['backup', a, t.endpoint(b)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    await expectSame(a, b);
    expect(await readFile(join(b, '.Sent', 'dovecot-keywords'), 'utf8')).toBe('0 work\n');
    expect(await readdir(join(b, 'tmp'))).toEqual([]);
    const asked = await requests(log);
    const at = (method: string, folder?: string): number => asked.findIndex(([m, f]) => m === method && (folder === undefined || f?.[0] === folder));
    for (const folder of ['INBOX', 'Sent']) {
      expect(at('stageFolder', folder)).toBeGreaterThanOrEqual(0);
      expect(at('stageFolder', folder)).toBeLessThan(at('deliver'));
      expect(at('publishFolder', folder)).toBeGreaterThan(at('deliver'));
      expect(at('publishFolder', folder)).toBeLessThan(at('commit'));
    }
    // Drafts is filled by nothing: created in place, nothing staged.
    expect(at('stageFolder', 'Drafts')).toBe(-1);
    expect(asked[at('createFolder', 'Drafts')]).toEqual(['createFolder', ['Drafts', 'in place']]);
  });

  it('sends none when nothing is to be written', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: [message('1600000001.M1P1.h', 'one')] }]);
    expect((await cliVia(serveTransport, work)(['backup', a, serveTransport.endpoint(b)])).code).toBe(0);
    const t = proxyTransport(`record:${log}`);
    const run = await cliVia(t, work)(['backup', a, t.endpoint(b)]);
    expect(run.code).toBe(0);
    expect((await requests(log)).map(([m]) => m)).not.toContain('prepare');
  });
});
