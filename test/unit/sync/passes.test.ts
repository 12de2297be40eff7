// Which runs are a first copy made in passes, and which folders go in each pass.

import { describe, expect, it } from 'vitest';
import type { FolderList, FolderSummary } from '../../../src/model.js';
import { firstCopyPasses, resumedCopyPasses, type SavedCounts } from '../../../src/sync/passes.js';

const side = (counts: Record<string, number>, extra: Record<string, Partial<FolderSummary>> = {}): FolderList => ({
  folders: Object.entries(counts).map(([name, messages]) => ({ name, digest: '', messages, uids: '', ...extra[name] })),
  subscriptions: [],
});
const all = (): boolean => true;

describe('firstCopyPasses', () => {
  it('groups the full side\'s folders in name order until each pass holds the pass size', () => {
    const a = side({ Work: 30, INBOX: 60, Archive: 50, Sent: 10, Trash: 5 });
    const b = side({});
    expect(firstCopyPasses('backup', { a, b }, all, 50, 100)).toEqual({
      messages: 155, passes: [['Archive'], ['INBOX'], ['Sent', 'Trash', 'Work']], totals: { a: 155, b: 0 },
    });
  });

  it('puts a folder only the empty side has in the pass its name falls in', () => {
    const a = side({ A: 60, C: 60 });
    const b = side({ B: 0, INBOX: 0 });
    expect(firstCopyPasses('backup', { a, b }, all, 50, 100)?.passes).toEqual([['A'], ['B', 'C'], ['INBOX']]);
  });

  it('copies from the second side in a two-way sync into an empty first side (its 110 messages)', () => {
    const a = side({ INBOX: 0 });
    const b = side({ INBOX: 70, Lists: 40 });
    expect(firstCopyPasses('sync', { a, b }, all, 50, 100)).toEqual({ messages: 110, passes: [['INBOX'], ['Lists']], totals: { a: 0, b: 110 } });
    // A backup or one-way run never copies from the second side.
    expect(firstCopyPasses('backup', { a, b }, all, 50, 100)).toBeUndefined();
    expect(firstCopyPasses('one-way', { a, b }, all, 50, 100)).toBeUndefined();
  });

  it('leaves any other run in one pass', () => {
    const full = side({ INBOX: 100, Work: 100 });
    // Both sides hold mail: a first meeting, planned whole.
    expect(firstCopyPasses('backup', { a: full, b: side({ Work: 1 }) }, all, 50, 100)).toBeUndefined();
    // Too few messages to go in passes (fewer than `least`, or than two passes hold).
    expect(firstCopyPasses('backup', { a: side({ INBOX: 60, Work: 39 }), b: side({}) }, all, 50, 100)).toBeUndefined();
    expect(firstCopyPasses('backup', { a: side({ INBOX: 60, Work: 39 }), b: side({}) }, all, 40, 99)?.passes).toEqual([['INBOX'], ['Work']]);
    expect(firstCopyPasses('backup', { a: side({ INBOX: 60, Work: 39 }), b: side({}) }, all, 60, 1)).toBeUndefined();
    // Everything in one folder: one pass.
    expect(firstCopyPasses('backup', { a: side({ INBOX: 500 }), b: side({}) }, all, 50, 100)).toBeUndefined();
    // A damaged or unreadable folder on either side: the run's usual warnings and failures.
    expect(firstCopyPasses('backup', { a: side({ INBOX: 100, Work: 100 }, { Work: { damaged: 'cur/ missing' } }), b: side({}) }, all, 50, 100)).toBeUndefined();
    expect(firstCopyPasses('backup', { a: full, b: side({ Junk: 0 }, { Junk: { unreadable: 'permission denied' } }) }, all, 50, 100)).toBeUndefined();
    // Nothing on either side.
    expect(firstCopyPasses('sync', { a: side({ INBOX: 0 }), b: side({}) }, all, 50, 100)).toBeUndefined();
  });

  it('counts only the folders the run includes', () => {
    const a = side({ INBOX: 100, Work: 100, Junk: 900 });
    const b = side({ Junk: 3 });
    const notJunk = (name: string): boolean => name !== 'Junk';
    expect(firstCopyPasses('backup', { a, b }, notJunk, 50, 100)).toEqual({ messages: 200, passes: [['INBOX'], ['Work']], totals: { a: 200, b: 0 } });
  });
});

describe('resumedCopyPasses', () => {
  const saved = (counts: Record<string, Partial<Record<'a' | 'b', number>>>): SavedCounts => new Map(Object.entries(counts));

  it('runs the folders the state knows first, then the folders new to the second side a few at a time', () => {
    // A first copy stopped after INBOX and Archive (Lists cut off at 10 of its 40), run again.
    const a = side({ INBOX: 30, Archive: 50, Lists: 40, 'Lists/Dev': 60, Sent: 20, Trash: 0 });
    const b = side({ INBOX: 30, Archive: 50, Lists: 10 });
    const state = saved({ INBOX: { a: 30, b: 30 }, Archive: { a: 50, b: 50 }, Lists: { a: 10, b: 10 } });
    expect(resumedCopyPasses('backup', { a, b }, state, all, 30, 60)).toEqual({
      messages: 80, passes: [['Archive', 'INBOX', 'Lists', 'Trash'], ['Lists/Dev'], ['Sent']], resumed: true,
      // What the guards count against in every pass: all the folders' messages.
      totals: { a: 200, b: 90 },
    });
  });

  it('takes folders new to either side in a two-way sync, and the first side\'s only otherwise', () => {
    const a = side({ INBOX: 5, Work: 70 });
    const b = side({ INBOX: 5, Home: 70 });
    const state = saved({ INBOX: { a: 5, b: 5 } });
    expect(resumedCopyPasses('sync', { a, b }, state, all, 30, 100)).toEqual({ messages: 140, passes: [['INBOX'], ['Home'], ['Work']], resumed: true, totals: { a: 75, b: 75 } });
    // Backup and one-way: Home, only on the second side, is a first meeting in the first pass.
    expect(resumedCopyPasses('backup', { a, b }, state, all, 30, 100)).toBeUndefined();
    expect(resumedCopyPasses('backup', { a, b }, state, all, 30, 60)?.passes).toEqual([['Home', 'INBOX'], ['Work']]);
    expect(resumedCopyPasses('one-way', { a, b }, state, all, 30, 60)?.passes).toEqual([['Home', 'INBOX'], ['Work']]);
  });

  it('plans whole a run where more than a tenth of a pass may have left known folders for new ones, on the side they come from', () => {
    const b = side({ INBOX: 30, Archive: 50 });
    const state = saved({ INBOX: { a: 30, b: 30 }, Archive: { a: 50, b: 50 } });
    // Archive renamed on the first side: its messages are moved on the second, not copied again.
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 30, Archive2019: 50, Lists: 60 }), b }, state, all, 30, 60)).toBeUndefined();
    // Four messages gone from INBOX and Archive (moved into a new folder, or expunged): more than 3.
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 27, Archive: 49, Lists: 60, Work: 4 }), b }, state, all, 30, 60)).toBeUndefined();
    // Three: at most that many would be copied again rather than moved.
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 27, Archive: 50, Lists: 60, Work: 4 }), b }, state, all, 30, 60)?.passes)
      .toEqual([['Archive', 'INBOX'], ['Lists'], ['Work']]);
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 27, Archive: 50, Lists: 60, Work: 4 }), b }, state, all, 30, 60, 2)).toBeUndefined();
    // Known folders grown, or shrunk only on the side the new folders do not come from: passes.
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 31, Archive: 50, Lists: 60, Work: 1 }), b: side({ INBOX: 2, Archive: 50 }) }, state, all, 30, 60)?.passes)
      .toEqual([['Archive', 'INBOX'], ['Lists'], ['Work']]);
    // A known folder left out of the run does not count.
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 30, Lists: 60, Work: 1 }), b }, state, (n) => n !== 'Archive', 30, 60)?.passes)
      .toEqual([['INBOX'], ['Lists'], ['Work']]);
  });

  it('with no state, runs the folders both sides hold mail in first (a first copy stopped before it saved one)', () => {
    const a = side({ INBOX: 30, Archive: 50, Lists: 40, Sent: 30 });
    const b = side({ Archive: 50, Trash: 0 });
    expect(resumedCopyPasses('backup', { a, b }, new Map(), all, 30, 60)).toEqual({
      messages: 100, passes: [['Archive', 'Trash'], ['INBOX'], ['Lists'], ['Sent']], resumed: true, totals: { a: 150, b: 50 },
    });
  });

  it('leaves any other run in one pass', () => {
    const b = side({ INBOX: 30 });
    const state = saved({ INBOX: { a: 30, b: 30 } });
    // Too few messages in the new folders (fewer than `least`, or than two passes hold).
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 30, Lists: 59 }), b }, state, all, 30, 60)).toBeUndefined();
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 30, Lists: 80 }), b }, state, all, 50, 1)).toBeUndefined();
    // A folder both sides hold mail in, unknown to the state: a first meeting, in the first pass.
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 30, Lists: 80, Work: 70 }), b: side({ INBOX: 30, Lists: 1 }) }, state, all, 30, 60)?.passes)
      .toEqual([['INBOX', 'Lists'], ['Work']]);
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 30, Lists: 80 }), b: side({ INBOX: 30, Lists: 1 }) }, state, all, 30, 60)).toBeUndefined();
    // A damaged or unreadable folder on either side.
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 30, Lists: 80, Work: 70 }, { Work: { damaged: 'new/ missing' } }), b }, state, all, 30, 60)).toBeUndefined();
    expect(resumedCopyPasses('backup', { a: side({ INBOX: 30, Lists: 80, Work: 70 }), b: side({ INBOX: 30 }, { INBOX: { unreadable: 'permission denied' } }) }, state, all, 30, 60)).toBeUndefined();
  });
});
