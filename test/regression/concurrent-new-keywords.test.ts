// Deliveries running at once into one folder, each bringing a new keyword: every name reaches dovecot-keywords.
// (A delivery that gave its keyword a letter while another was saving the file lost the name from the file.)

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../src/local/agent.js';
import { makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

describe('concurrent deliveries with new keywords', () => {
  it.each(Array.from({ length: 8 }, (_, round) => round))('records every keyword and each file carries the letter of its own name (round %i)', async (round) => {
    const root = join(work, `m${round}`);
    await makeMaildir(root, [{ dir: '', messages: [] }]);
    const agent = await LocalAgent.open(root, { cacheDir: join(work, 'cache') });
    const names = Array.from({ length: 24 }, (_, i) => `$Label${i}`);
    // Started a little apart, so some give out a letter while another is writing the file.
    await Promise.all(names.map(async (kw, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * (7 + round)) % 13));
      return agent.deliver('INBOX', [{
      guid: `1600000${String(i).padStart(3, '0')}.M${i}P1.host`, data: Buffer.from(`Subject: ${kw}\n\n${kw}\n`), mtime: 1_600_000_000_000,
      flags: 'S', keywords: [kw], location: 'cur',
      }]);
    }));
    await agent.close();
    const recorded = (await readFile(join(root, 'dovecot-keywords'), 'utf8')).trim().split('\n').map((l) => l.split(' ')[1]);
    expect([...recorded].sort()).toEqual([...names].sort());
    const fresh = await LocalAgent.open(root, { cacheDir: join(work, 'cache-2') });
    const manifest = await fresh.manifest('INBOX');
    for (const [i, kw] of names.entries()) {
      expect(manifest.messages.find((e) => e.guid.startsWith(`1600000${String(i).padStart(3, '0')}.`))?.keywords).toEqual([kw]);
    }
    await fresh.close();
  });
});
