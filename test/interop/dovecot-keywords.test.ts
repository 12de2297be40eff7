// Keywords by name with each folder's own letters, judged by Dovecot; a keyword a full folder
// cannot take (Maildir names at most 26 per folder) is reported and never dropped anywhere else.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dovecotWorkDir, fetchMessages } from '../helpers/dovecot.js';
import { makeMaildir, message, removeDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let config: string;
let a: string;
let b: string;

const FULL = Array.from({ length: 26 }, (_, i) => `Tag${String(i + 1).padStart(2, '0')}`);
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

beforeEach(async () => {
  ({ work, config } = await dovecotWorkDir());
  a = join(work, 'a');
  b = join(work, 'b');
  // a's INBOX uses all 26 letters; b's INBOX has a keyword of its own, "Later", on letter a.
  await makeMaildir(a, [{
    dir: '',
    keywords: FULL,
    messages: [
      message('1700000001.M1P1.host', 'all tags', { flags: 'S', letters: LETTERS }),
      message('1700000002.M2P1.host', 'two tags', { flags: 'S', letters: 'cz' }),
    ],
  }]);
  await makeMaildir(b, [{ dir: '', keywords: ['Later', 'Tag03'], messages: [message('1700000003.M3P1.host', 'later', { flags: 'S', letters: 'ab' })] }]);
});

afterEach(() => removeDir(work));

/** Dovecot's keywords of each message, by the message's GUID. */
async function keywordsByGuid(root: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const m of await fetchMessages(config, root, 'INBOX')) out[m.guid] = m.flags.filter((f) => !f.startsWith('\\'));
  return out;
}

const ALL = '1700000001.M1P1.host,S=';
const guidOf = (keywords: Record<string, string[]>, prefix: string): string => {
  const guid = Object.keys(keywords).find((g) => g.startsWith(prefix));
  if (!guid) throw new Error(`no message ${prefix}… in ${JSON.stringify(keywords)}`);
  return guid;
};

describe.each([localTransport, serveTransport])('keywords across folders with different letters ($name)', (t: SideTransport) => {
  it('carries keywords by name, reports the 27th of a folder, and never removes it from the side that has it', async () => {
    const cli = cliVia(t, work);
    const r = await cli(['sync', a, t.endpoint(b)]);
    expect(r.code).toBe(0);
    // b's INBOX already names Later and Tag03: Tag01…Tag25 less Tag03 take its 24 free letters.
    expect(r.stderr).toContain('mdsync: warning: INBOX: second side: keyword "Tag26" of 1700000001.M1P1.host');
    expect(r.stderr).toContain('not set here: the folder\'s dovecot-keywords already names 26 keywords, all a Maildir folder can hold');
    expect(r.stderr).toContain('mdsync: warning: INBOX: second side: keyword "Tag26" of 1700000002.M2P1.host');
    expect(r.stderr).toContain('mdsync: warning: INBOX: first side: keyword "Later" of 1700000003.M3P1.host');
    // Both sides held mail and had never met: said once, on this run only.
    expect(r.stderr).toContain('mdsync: warning: first meeting of these two Maildirs');

    const onA = await keywordsByGuid(a);
    const onB = await keywordsByGuid(b);
    expect(onA[guidOf(onA, ALL)]).toEqual([...FULL].sort());
    expect(onB[guidOf(onB, ALL)]).toEqual(FULL.filter((k) => k !== 'Tag26').sort());
    expect(onA[guidOf(onA, '1700000002.')]).toEqual(['Tag03', 'Tag26']);
    expect(onB[guidOf(onB, '1700000002.')]).toEqual(['Tag03']);
    expect(onB[guidOf(onB, '1700000003.')]).toEqual(['Later', 'Tag03']);
    expect(onA[guidOf(onA, '1700000003.')]).toEqual(['Tag03']);
    // Each folder names its own letters: b's file says "Later" is a, a's names never moved.
    expect(await readFile(join(b, 'dovecot-keywords'), 'utf8')).toMatch(/^0 Later\n1 Tag03\n/);
    expect((await readFile(join(a, 'dovecot-keywords'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(26);

    // Every later run reports again what cannot be held, and its absence is never read as a
    // removal on that side: the side that holds the keyword keeps it.
    for (let run = 0; run < 2; run++) {
      const again = await cli(['sync', a, t.endpoint(b)]);
      expect(again.code).toBe(0);
      const unheld = r.stderr.split('\n').filter((l) => l !== '' && !l.includes('first meeting'));
      expect(again.stderr.split('\n').filter(Boolean).sort()).toEqual(unheld.sort());
    }
    expect(await keywordsByGuid(a)).toEqual(onA);
    expect(await keywordsByGuid(b)).toEqual(onB);
    // And verify still shows what Maildir could not hold.
    const v = await cli(['verify', a, t.endpoint(b)]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('Tag26');
    expect(v.stdout).toContain('Later');
  });
});
