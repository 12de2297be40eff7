// A folder listed again against the listing its cache holds: the digest follows only the files
// that came and went, and the folder can say what changed since that digest.

import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestEntries } from '../../../src/digest.js';
import { LocalAgent } from '../../../src/local/agent.js';
import { addMessage, makeMaildir, message, removeDir, tempDir } from '../../helpers/maildir.js';

let dir: string;
let root: string;
let cacheDir: string;
beforeEach(async () => {
  dir = await tempDir();
  root = join(dir, 'Maildir');
  cacheDir = join(dir, 'cache');
  const ms = ['m1', 'm2', 'm3', 'm4', 'm5'].map((b, i) => message(b, `s${i}`, { flags: 'S', ...(b === 'm3' ? { location: 'new' as const, flags: '' } : {}) }));
  await makeMaildir(root, [{ dir: '', keywords: ['$Label1', 'todo'], messages: ms.map((m, i) => (i === 3 ? { ...m, letters: 'a' } : m)) }]);
});
afterEach(async () => removeDir(dir));

/** One run's look at INBOX: its summary digest, the full manifest's own digest, and changes since `since`. */
async function look(since?: string): Promise<{ digest: string; whole: string; changes?: Awaited<ReturnType<LocalAgent['changes']>> }> {
  const agent = await LocalAgent.open(root, { cacheDir });
  try {
    const list = await agent.listFolders();
    const digest = list.folders.find((f) => f.name === 'INBOX')?.digest as string;
    const changes = since === undefined ? undefined : await agent.changes('INBOX', since);
    const whole = digestEntries((await agent.manifest('INBOX')).messages);
    return { digest, whole, changes };
  } finally {
    await agent.close();
  }
}

const base = (name: string): string => name.split(':')[0] as string;

describe('changes since a digest', () => {
  it('names what was delivered, renamed or moved to cur/, and what is gone; the digest is the whole folder\'s', async () => {
    const before = await look();
    expect(before.digest).toBe(before.whole);
    const m1 = message('m1', 's0');
    const m3 = message('m3', 's2');
    await rename(join(root, 'cur', `${m1.base}:2,S`), join(root, 'cur', `${m1.base}:2,FS`));
    await rename(join(root, 'new', m3.base), join(root, 'cur', `${m3.base}:2,S`));
    await rm(join(root, 'cur', `${message('m2', 's1').base}:2,S`));
    await addMessage(root, '', message('m6', 's6', { location: 'new' }));
    const after = await look(before.digest);
    expect(after.digest).toBe(after.whole);
    expect(after.digest).not.toBe(before.digest);
    const changed = after.changes?.changed.map((e) => `${base(e.guid)} ${e.flags} ${e.location}`).sort();
    expect(changed).toEqual([`${m1.base} FS cur`, `${m3.base} S cur`, `${message('m6', 's6').base}  new`]);
    expect(after.changes?.gone).toEqual([message('m2', 's1').base]);
  });

  it('cannot tell from any other digest', async () => {
    await look();
    await addMessage(root, '', message('m6', 's6'));
    const after = await look('0'.repeat(32));
    expect(after.changes).toBeUndefined();
    expect(after.digest).toBe(after.whole);
  });

  it('still follows changes when dovecot-keywords gains a letter, not when a letter is renamed', async () => {
    const before = await look();
    await writeFile(join(root, 'dovecot-keywords'), '0 $Label1\n1 todo\n2 later\n');
    await addMessage(root, '', message('m7', 's7', { letters: 'c' }));
    const grown = await look(before.digest);
    expect(grown.digest).toBe(grown.whole);
    expect(grown.changes?.changed.map((e) => e.keywords)).toEqual([['later']]);
    await writeFile(join(root, 'dovecot-keywords'), '0 $Other\n1 todo\n2 later\n');
    await addMessage(root, '', message('m8', 's8'));
    const renamed = await look(grown.digest);
    expect(renamed.changes).toBeUndefined();
    // m4 carries letter a: its keyword is now $Other, and the digest says so.
    expect(renamed.digest).toBe(renamed.whole);
  });

  it('sees a message change when a letter its name carries gets a name in dovecot-keywords, the name itself unchanged', async () => {
    // As Dovecot may leave it for a moment: a file renamed with a letter the keywords file does not name yet.
    const m7 = message('m7', 's7', { letters: 'c' });
    await addMessage(root, '', m7);
    const before = await look();
    expect(before.digest).toBe(before.whole);
    await writeFile(join(root, 'dovecot-keywords'), '0 $Label1\n1 todo\n2 later\n');
    const after = await look(before.digest);
    expect(after.digest).toBe(after.whole);
    expect(after.digest).not.toBe(before.digest);
    expect(after.changes?.changed.map((e) => [base(e.guid), e.keywords])).toEqual([[m7.base, ['later']]]);
    expect(after.changes?.gone).toEqual([]);
  });

  it('keeps the digest whole when a delivery gives a new keyword the letter a file already carries unnamed', async () => {
    const m7 = message('m7', 's7', { letters: 'c' });
    await addMessage(root, '', m7);
    await look();
    const agent = await LocalAgent.open(root, { cacheDir });
    try {
      await agent.listFolders();
      const m8 = message('m8', 's8');
      await agent.deliver('INBOX', [{ guid: m8.base, data: Buffer.from(m8.body), mtime: Date.now(), flags: 'S', keywords: ['fresh'], location: 'cur' }]);
      await agent.commit();
    } finally {
      await agent.close();
    }
    const after = await look();
    expect(after.digest).toBe(after.whole);
    const agent2 = await LocalAgent.open(root, { cacheDir });
    try {
      const entries = (await agent2.manifest('INBOX')).messages.filter((e) => e.keywords.includes('fresh')).map((e) => base(e.guid)).sort();
      expect(entries).toEqual([m7.base, message('m8', 's8').base].sort());
    } finally {
      await agent2.close();
    }
  });

  it('keeps a message\'s known hash across a rename, from one run to the next', async () => {
    const m1 = message('m1', 's0');
    const first = await LocalAgent.open(root, { cacheDir });
    let since: string;
    try {
      since = (await first.listFolders()).folders.find((f) => f.name === 'INBOX')?.digest as string;
      await first.hash('INBOX', [m1.base]);
      await first.commit();
    } finally {
      await first.close();
    }
    await rename(join(root, 'cur', `${m1.base}:2,S`), join(root, 'cur', `${m1.base}:2,FS`));
    const after = await look(since);
    expect(after.changes?.changed.map((e) => [e.guid, e.flags, e.hash])).toEqual([[m1.base, 'FS', createHash('sha256').update(m1.body).digest('hex')]]);
  });

  it('does not trust a cache listing a name no scan could list: the folder is listed whole', async () => {
    // Directories an hour old: the scan is settled and cached, and the next run takes the cache.
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const sub of ['new', 'cur']) await utimes(join(root, sub), hourAgo, hourAgo);
    await look();
    const [cacheFile] = (await readdir(cacheDir)).filter((f) => f.endsWith('.scan'));
    const path = join(cacheDir, cacheFile as string);
    const bytes = await readFile(path);
    const at = bytes.indexOf(Buffer.from(message('m5', 's4').base));
    expect(at).toBeGreaterThan(0);
    // Same length, so the file still decodes: only the name is now a path. Nothing changed on
    // disk, so the folder's stamp still matches the cache's.
    bytes.write('../', at, 'latin1');
    await writeFile(path, bytes);
    const after = await look();
    expect(after.digest).toBe(after.whole);
    const agent = await LocalAgent.open(root, { cacheDir });
    try {
      const names = (await agent.manifest('INBOX')).messages.map((e) => base(e.guid)).sort();
      expect(names).toEqual(['m1', 'm2', 'm3', 'm4', 'm5'].map((b, i) => message(b, `s${i}`).base).sort());
    } finally {
      await agent.close();
    }
  });
});

describe('a damaged cache header', () => {
  /** Rewrites the cache file's header (a length, then JSON) through `edit`; the file lists after it stay. */
  async function editHeader(edit: (header: string) => string): Promise<void> {
    const [cacheFile] = (await readdir(cacheDir)).filter((f) => f.endsWith('.scan'));
    const path = join(cacheDir, cacheFile as string);
    const bytes = await readFile(path);
    const length = bytes.readUInt32BE(0);
    const header = Buffer.from(edit(bytes.subarray(4, 4 + length).toString('utf8')), 'utf8');
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(header.length, 0);
    await writeFile(path, Buffer.concat([prefix, header, bytes.subarray(4 + length)]));
  }

  const cases: [string, (header: string) => string][] = [
    ['a folder record without its stamp', (h) => {
      const parsed = JSON.parse(h) as { folders: Record<string, Record<string, unknown>> };
      delete parsed.folders.INBOX?.stamp;
      return JSON.stringify(parsed);
    }],
    ['a header that is not JSON', (h) => h.replace('{', '[')],
  ];
  for (const [what, edit] of cases) {
    it(`with ${what}: the folder is listed afresh, a message delivered since found though the directories' mtimes say nothing changed`, async () => {
      const hourAgo = new Date(Date.now() - 3600_000);
      for (const sub of ['new', 'cur']) await utimes(join(root, sub), hourAgo, hourAgo);
      await look();
      await editHeader(edit);
      const m6 = message('m6', 's6');
      await addMessage(root, '', m6);
      for (const sub of ['new', 'cur']) await utimes(join(root, sub), hourAgo, hourAgo);
      const after = await look();
      expect(after.digest).toBe(after.whole);
      const agent = await LocalAgent.open(root, { cacheDir });
      try {
        const names = (await agent.manifest('INBOX')).messages.map((e) => base(e.guid)).sort();
        expect(names).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map((b, i) => message(b, `s${i}`).base).sort());
      } finally {
        await agent.close();
      }
    });
  }
});

describe('folders read ahead while the far side is reached (prefetch)', () => {
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 120));

  it('after a read-ahead with nothing changed since, the listing is the folder and what changed since the saved digest is told', async () => {
    const before = await look();
    await rename(join(root, 'cur', `${message('m1', 's0').base}:2,S`), join(root, 'cur', `${message('m1', 's0').base}:2,FS`));
    await addMessage(root, '', message('m6', 's6'));
    await settle();
    const agent = await LocalAgent.open(root, { cacheDir });
    try {
      await agent.prefetch();
      const list = await agent.listFolders();
      const whole = digestEntries((await agent.manifest('INBOX')).messages);
      expect(list.folders.find((f) => f.name === 'INBOX')?.digest).toBe(whole);
      const changes = await agent.changes('INBOX', before.digest);
      expect(changes?.changed.map((e) => base(e.guid)).sort()).toEqual([message('m1', 's0').base, message('m6', 's6').base].sort());
      expect(changes?.gone).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('a folder changed after it was read ahead is listed again', async () => {
    await look();
    await settle();
    const agent = await LocalAgent.open(root, { cacheDir });
    try {
      await agent.prefetch();
      await addMessage(root, '', message('m7', 's7'));
      await rm(join(root, 'cur', `${message('m2', 's1').base}:2,S`));
      const list = await agent.listFolders();
      const inbox = list.folders.find((f) => f.name === 'INBOX');
      const manifest = await agent.manifest('INBOX');
      expect(inbox?.messages).toBe(5);
      expect(manifest.messages.map((e) => base(e.guid)).sort()).toEqual(['m1', 'm3', 'm4', 'm5', 'm7'].map((b, i) => message(b, `s${[0, 2, 3, 4, 7][i]}`).base).sort());
      expect(inbox?.digest).toBe(digestEntries(manifest.messages));
    } finally {
      await agent.close();
    }
  });
});
