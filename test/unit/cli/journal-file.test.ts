// The placement journal on disk: what a run appends reads back the same (records as the state
// file's tuples), a line a kill cut short is left out, and a covered part is removed.

import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { journalFile } from '../../../src/cli/journal-file.js';
import type { JournalEntry } from '../../../src/sync/journal.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mdsync-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ids = { idA: 'dev:1:a', idB: 'dev:2:b' };
const entry = (folder: string, placed?: boolean): JournalEntry => ({
  ...ids, folder, to: 'b', ...(placed ? { placed } : {}),
  records: [
    { hash: 'ab'.repeat(32), a: { guid: '1.M1.h', flags: 'S', keywords: ['$Label1', 'work'], location: 'cur' }, b: { guid: '1.M1.h', flags: 'S', keywords: ['$Label1', 'work'], location: 'cur' } },
    { hash: 'cd'.repeat(32), infoRest: ',W=120', a: { guid: '2.M2.h', flags: '', keywords: [], location: 'new' }, b: { guid: '2.M2.h-fresh', flags: 'F', keywords: [], location: 'cur' } },
    { hash: 'ef'.repeat(32), a: { guid: '3.M3.h', flags: 'RS', keywords: [], location: 'cur' } },
  ],
});

describe('the journal file', () => {
  it('reads back every entry as appended, in order, across a mark', async () => {
    const journal = journalFile(join(dir, 'pair.state'));
    await journal.append(entry('INBOX'));
    const mark = journal.mark([entry('Carried')]);
    await journal.append(entry('Work', true));
    await journal.sync();
    expect(await journalFile(join(dir, 'pair.state')).read()).toEqual([entry('INBOX'), entry('Carried'), entry('Work', true)]);
    await journal.covered(mark);
    expect(await journalFile(join(dir, 'pair.state')).read()).toEqual([entry('Carried'), entry('Work', true)]);
    // Covered whole, the pair's journal directory goes: the state directory keeps no trace.
    await journal.covered(journal.mark([]));
    expect(readdirSync(dir)).toEqual([]);
    await journal.append(entry('After'));
    expect(await journalFile(join(dir, 'pair.state')).read()).toEqual([entry('After')]);
    // A mark carrying entries after the directory went makes it again for them.
    await journal.covered(journal.mark([]));
    expect(readdirSync(dir)).toEqual([]);
    const carried = journal.mark([entry('Carried again')]);
    await journal.covered(carried);
    expect(await journalFile(join(dir, 'pair.state')).read()).toEqual([entry('Carried again')]);
  });

  it('leaves out a last line a kill cut short', async () => {
    const journal = journalFile(join(dir, 'pair.state'));
    await journal.append(entry('INBOX'));
    expect(readdirSync(dir)).toEqual(['pair.state.journal']);
    const [part] = readdirSync(join(dir, 'pair.state.journal'));
    appendFileSync(join(dir, 'pair.state.journal', part as string), '{"idA":"dev:1:a","idB":"dev:2:b","folder":"Wo');
    expect(await journalFile(join(dir, 'pair.state')).read()).toEqual([entry('INBOX')]);
  });
});
