// A run's side of the placement journal: what is journalled before and after a batch is placed,
// and that a folder built aside is journalled once, as it is published.

import { describe, expect, it } from 'vitest';
import { PlacementLog } from '../../../src/sync/journal.js';
import type { StateMessage } from '../../../src/sync/state.js';
import { MemoryJournal } from '../../helpers/memory-pair.js';

const ids = { idA: 'dev:1:a', idB: 'dev:2:b' };
const planned = (): StateMessage[] => [
  { hash: 'ab'.repeat(32), a: { guid: '1.M1.h', flags: 'S', keywords: ['work'], location: 'cur' }, b: { guid: '1.M1.h', flags: 'S', keywords: ['work'], location: 'cur' } },
  { hash: 'cd'.repeat(32), a: { guid: '2.M2.h', flags: '', keywords: [], location: 'new' }, b: { guid: '2.M2.h', flags: '', keywords: [], location: 'new' } },
];

describe('the placement log', () => {
  it('journals a batch before it is placed, as planned, whatever placing then changes in the records', async () => {
    const journal = new MemoryJournal();
    const log = new PlacementLog(journal, ids);
    const records = planned();
    await log.before('INBOX', 'b', records);
    // Placing fills the records in (notePlaced): a fresh name on b.
    (records[1] as StateMessage).b = { guid: '2.M2.h-fresh', flags: '', keywords: [], location: 'new' };
    expect(await journal.read()).toEqual([{ ...ids, folder: 'INBOX', to: 'b', records: planned() }]);
  });

  it('journals only what was placed otherwise than planned once the batch is placed', async () => {
    const journal = new MemoryJournal();
    const log = new PlacementLog(journal, ids);
    const intent = await log.before('INBOX', 'b', planned());
    const placed = planned();
    (placed[1] as StateMessage).b = { guid: '2.M2.h-fresh', flags: '', keywords: [], location: 'new' };
    await log.after(intent, placed);
    expect((await journal.read())[1]).toEqual({ ...ids, folder: 'INBOX', to: 'b', placed: true, records: [placed[1]] });
  });

  it('journals nothing of a folder built aside until it is published, then every record placed in it once', async () => {
    const journal = new MemoryJournal();
    const log = new PlacementLog(journal, ids);
    const first = planned();
    const intent = await log.before('Work', 'b', first, true);
    await log.after(intent, first);
    const second: StateMessage[] = [{ hash: 'ef'.repeat(32), a: { guid: '3.M3.h', flags: 'S', keywords: [], location: 'cur' }, b: { guid: '3.M3.h', flags: 'S', keywords: [], location: 'cur' } }];
    await log.after(await log.before('Work', 'b', second, true), second);
    expect(await journal.read()).toEqual([]);
    await log.publishing('Work', 'b');
    // Batch by batch, each record once.
    expect(await journal.read()).toEqual([
      { ...ids, folder: 'Work', to: 'b', placed: true, records: first },
      { ...ids, folder: 'Work', to: 'b', placed: true, records: second },
    ]);
  });
});
