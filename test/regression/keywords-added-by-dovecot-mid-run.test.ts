// A keyword Dovecot adds to dovecot-keywords after our scan keeps its letter, and ours takes a free one.
// (The file was written back from the map read at scan time: Dovecot's new name was dropped and its
// letter given to ours, so Dovecot showed our keyword on its message.)

import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../src/local/agent.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

describe('keywords added by another program during a run', () => {
  it.each(['deliver', 'setFlags'] as const)('%s: the other program\'s names and letters stay, ours get free letters, the mtime moves a whole second', async (how) => {
    const root = join(work, 'm');
    await makeMaildir(root, [{ dir: '', keywords: ['$Label1'], messages: [message('1600000001.M1P1.host', 'one', { flags: 'S', letters: 'a' })] }]);
    const agent = await LocalAgent.open(root, { cacheDir: join(work, 'cache') });
    await agent.listFolders();
    await agent.manifest('INBOX');
    // Dovecot, meanwhile, gives "Todo" letter b and sets it on a message of its own.
    const path = join(root, 'dovecot-keywords');
    await writeFile(path, '0 $Label1\n1 Todo\n');
    const seconds = Math.floor(Date.now() / 1000) + 5;
    await utimes(path, seconds, seconds);
    await writeFile(join(root, 'cur', '1600000002.M2P1.host:2,Sb'), 'Subject: two\n\ntwo\n');
    if (how === 'deliver') {
      await agent.deliver('INBOX', [{ guid: '1600000003.M3P1.host', data: Buffer.from('Subject: three\n\nthree\n'), mtime: 1_600_000_000_000, flags: 'S', keywords: ['Later'], location: 'cur' }]);
    } else {
      const [first] = (await agent.manifest('INBOX')).messages;
      await agent.setFlags('INBOX', [{ guid: first?.guid ?? '', addFlags: '', removeFlags: '', addKeywords: ['Later'], removeKeywords: [] }]);
    }
    await agent.close();
    expect(await readFile(path, 'utf8')).toBe('0 $Label1\n1 Todo\n2 Later\n');
    expect(Math.floor((await stat(path)).mtimeMs / 1000)).toBe(seconds + 1);
    const fresh = await LocalAgent.open(root, { cacheDir: join(work, 'cache-2') });
    const byGuid = new Map((await fresh.manifest('INBOX')).messages.map((e) => [e.guid.split(',')[0], e.keywords]));
    await fresh.close();
    expect(byGuid.get('1600000002.M2P1.host')).toEqual(['Todo']);
    expect(byGuid.get(how === 'deliver' ? '1600000003.M3P1.host' : '1600000001.M1P1.host')).toEqual(how === 'deliver' ? ['Later'] : ['$Label1', 'Later']);
  });
});
