// Which runs are a first copy made in passes, and which folders go in each pass.

import { describe, expect, it } from 'vitest';
import type { FolderList, FolderSummary } from '../../../src/model.js';
import { firstCopyPasses } from '../../../src/sync/passes.js';

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
      messages: 155, passes: [['Archive'], ['INBOX'], ['Sent', 'Trash', 'Work']],
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
    expect(firstCopyPasses('sync', { a, b }, all, 50, 100)).toEqual({ messages: 110, passes: [['INBOX'], ['Lists']] });
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
    expect(firstCopyPasses('backup', { a, b }, notJunk, 50, 100)).toEqual({ messages: 200, passes: [['INBOX'], ['Work']] });
  });
});
