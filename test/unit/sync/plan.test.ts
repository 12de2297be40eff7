// The plan's summary and its safety guards: max-delete, big folder deletion, an unmounted side.

import { describe, expect, it } from 'vitest';
import { GuardError } from '../../../src/errors.js';
import { diff } from '../../../src/sync/diff.js';
import { checkGuards, limitFor, type GuardOptions } from '../../../src/sync/guards.js';
import { LandedNames, countMessages, expungesAfterPlacing, isEmptyPlan, summarize, type Plan } from '../../../src/sync/plan.js';
import { errorOf } from '../../helpers/errors.js';
import { agreed, entry, snapshot, state } from '../../helpers/manifest.js';

function emptyPlan(mode: Plan['mode'] = 'sync'): Plan {
  return {
    mode, createFolders: [], transfers: [], copies: [], flagChanges: [], expunges: [], deleteFolders: [], subscriptions: {},
    keep: {}, folderPresence: {}, subscriptionsAfter: [], warnings: [],
  };
}

function expunging(side: 'a' | 'b', n: number, mode: Plan['mode'] = 'sync'): Plan {
  const plan = emptyPlan(mode);
  for (let i = 0; i < n; i++) plan.expunges.push({ side, folder: 'INBOX', guid: `m${i}` });
  return plan;
}

function guardError(fn: () => void): GuardError {
  return errorOf(fn, GuardError);
}

const opts = (totals: [number, number], extra: Partial<GuardOptions> = {}): GuardOptions => ({ force: false, totals: { a: totals[0], b: totals[1] }, ...extra });

describe('limitFor', () => {
  it.each([
    [100, undefined, Infinity],
    [101, undefined, 25],
    [1000, undefined, 250],
    [1003, undefined, 250],
    [1000, { count: 7 }, 7],
    [10, { count: 0 }, 0],
    [1000, { percent: 10 }, 100],
    [50, { percent: 10 }, 5],
    [5, { percent: 10 }, 0],
  ] as const)('%d messages, %j → %d', (total, maxDelete, want) => {
    expect(limitFor(total, maxDelete)).toBe(want);
  });
});

describe('checkGuards: --max-delete', () => {
  it('lets a side of 100 messages or fewer lose any number by default', () => {
    expect(() => checkGuards(expunging('a', 100), opts([100, 100]))).not.toThrow();
  });

  it('allows 25% of a side over 100 messages by default', () => {
    expect(() => checkGuards(expunging('b', 50), opts([1000, 200]))).not.toThrow();
  });

  it('refuses more than 25% of a side over 100 messages by default', () => {
    const err = guardError(() => checkGuards(expunging('b', 51), opts([1000, 200])));
    expect(err.code).toBe('GUARD_MAX_DELETE');
    expect(err.message).toBe('refusing to expunge 51 of 200 messages on the second side (limit 50, see --max-delete); nothing was changed. Check the plan with --dry-run, then use --force if it is right');
  });

  it('counts each side against its own total', () => {
    const plan = expunging('a', 30);
    expect(() => checkGuards(plan, opts([200, 101]))).not.toThrow();
    expect(guardError(() => checkGuards(plan, opts([101, 200]))).message).toContain('refusing to expunge 30 of 101 messages on the first side (limit 25');
  });

  it('takes an explicit count', () => {
    expect(() => checkGuards(expunging('a', 3), opts([10, 10], { maxDelete: { count: 3 } }))).not.toThrow();
    const err = guardError(() => checkGuards(expunging('a', 4), opts([10, 10], { maxDelete: { count: 3 } })));
    expect(err.code).toBe('GUARD_MAX_DELETE');
    expect(err.message).toContain('refusing to expunge 4 of 10 messages on the first side (limit 3, see --max-delete)');
  });

  it('takes an explicit percentage, also on a small side', () => {
    expect(() => checkGuards(expunging('b', 5), opts([50, 50], { maxDelete: { percent: 10 } }))).not.toThrow();
    const err = guardError(() => checkGuards(expunging('b', 6), opts([50, 50], { maxDelete: { percent: 10 } })));
    expect(err.code).toBe('GUARD_MAX_DELETE');
    expect(err.message).toContain('refusing to expunge 6 of 50 messages on the second side (limit 5,');
  });

  it('lets everything through with --force', () => {
    expect(() => checkGuards(expunging('a', 1000), opts([1000, 1000], { force: true, maxDelete: { count: 0 } }))).not.toThrow();
  });
});

describe('checkGuards: folder deletion', () => {
  const deleting = (messages: number): Plan => ({ ...emptyPlan(), deleteFolders: [{ side: 'a', folder: 'Archive/2020', messages }] });

  it('allows deleting a folder of 100 messages', () => {
    expect(() => checkGuards(deleting(100), opts([10_000, 10_000]))).not.toThrow();
  });

  it('refuses deleting a folder of more than 100 messages', () => {
    const err = guardError(() => checkGuards(deleting(101), opts([10_000, 10_000])));
    expect(err.code).toBe('GUARD_FOLDER_DELETE');
    expect(err.message).toBe('refusing to delete folder "Archive/2020" holding 101 messages on the first side; nothing was changed. Check the plan with --dry-run, then use --force if it is right');
  });

  it('allows it with --force', () => {
    expect(() => checkGuards(deleting(5000), opts([10_000, 10_000], { force: true }))).not.toThrow();
  });

  it('trips on a plan diff made for a folder deleted on the other side', () => {
    const messages = Array.from({ length: 150 }, (_, i) => `w${i}`);
    const plan = diff({
      mode: 'sync',
      state: state({ INBOX: { messages: [] }, Work: { messages: messages.map((g) => agreed(`h-${g}`, g)) } }),
      a: snapshot({ INBOX: [] }),
      b: snapshot({ INBOX: [entry('keep')], Work: messages.map((g) => entry(g)) }),
    });
    expect(plan.deleteFolders).toEqual([{ side: 'b', folder: 'Work', messages: 150 }]);
    const err = guardError(() => checkGuards(plan, opts([10_000, 10_000], { maxDelete: { count: 1000 } })));
    expect(err.code).toBe('GUARD_FOLDER_DELETE');
    expect(err.message).toContain('"Work" holding 150 messages on the second side');
  });
});

describe('checkGuards: an unmounted side', () => {
  it('refuses a side that is empty while the state says it held mail', () => {
    const err = guardError(() => checkGuards(expunging('b', 3), opts([0, 3], { stateTotals: { a: 3, b: 3 } })));
    expect(err.code).toBe('GUARD_UNMOUNTED');
    expect(err.message).toBe('the first side is empty but held 3 messages at the last sync: is it unmounted? Nothing was changed. If it was really emptied, run with --force');
  });

  it('names the second side too', () => {
    const err = guardError(() => checkGuards(emptyPlan(), opts([4, 0], { stateTotals: { a: 4, b: 4 } })));
    expect(err.code).toBe('GUARD_UNMOUNTED');
    expect(err.message).toContain('the second side is empty but held 4 messages');
  });

  it('comes before the max-delete guard', () => {
    expect(guardError(() => checkGuards(expunging('b', 500), opts([0, 500], { stateTotals: { a: 500, b: 500 } }))).code).toBe('GUARD_UNMOUNTED');
  });

  it('lets an empty side through when the state says it was empty, or with --force', () => {
    expect(() => checkGuards(emptyPlan(), opts([0, 0], { stateTotals: { a: 0, b: 0 } }))).not.toThrow();
    expect(() => checkGuards(emptyPlan(), opts([0, 2], { stateTotals: { a: 0, b: 2 } }))).not.toThrow();
    expect(() => checkGuards(expunging('b', 3), opts([0, 3], { force: true, stateTotals: { a: 3, b: 3 } }))).not.toThrow();
  });

  it('refuses a backup from an empty source over a replica that holds mail, with or without state', () => {
    const err = guardError(() => checkGuards(expunging('b', 2, 'backup'), opts([0, 2])));
    expect(err.code).toBe('GUARD_UNMOUNTED');
    expect(err.message).toBe('the source is empty but the replica holds 2 messages: is the source unmounted? Nothing was changed. If the source was really emptied, run with --force');
    expect(() => checkGuards(expunging('b', 2, 'backup'), opts([0, 2], { force: true }))).not.toThrow();
  });

  it('lets a two-way first meeting with one empty side through (it only receives)', () => {
    expect(() => checkGuards(emptyPlan('sync'), opts([0, 500]))).not.toThrow();
  });

  it('refuses a side that is another directory now holding under a tenth of what it held, naming it', () => {
    const changed = { identityChanged: { a: false, b: true }, roots: { a: '/srv/a', b: '/mnt/mail' } };
    const err = guardError(() => checkGuards(emptyPlan('sync'), opts([2000, 1], { stateTotals: { a: 2000, b: 2000 }, ...changed })));
    expect(err.code).toBe('GUARD_UNMOUNTED');
    expect(err.message).toContain('the second side (/mnt/mail) is not the directory the saved state was made with and holds 1 messages where it held 2000');
    // The same directory losing mail, a re-created one holding most of it, or --force: through.
    expect(() => checkGuards(emptyPlan('sync'), opts([2000, 1], { stateTotals: { a: 2000, b: 2000 }, identityChanged: { a: false, b: false } }))).not.toThrow();
    expect(() => checkGuards(emptyPlan('sync'), opts([2000, 1900], { stateTotals: { a: 2000, b: 2000 }, ...changed }))).not.toThrow();
    expect(() => checkGuards(emptyPlan('sync'), opts([2000, 1], { force: true, stateTotals: { a: 2000, b: 2000 }, ...changed }))).not.toThrow();
  });
});

describe('summarize / isEmptyPlan / countMessages', () => {
  it('counts work per side, a transfer for the side that receives it', () => {
    const plan = diff({
      mode: 'sync',
      state: state({ INBOX: { messages: [agreed('h1', 'm1'), agreed('h2', 'm2')] } }, ['X']),
      a: snapshot({ INBOX: [entry('m1', { flags: 'S' }), entry('new-a', { hash: 'h3' })] }, ['X', 'Y']),
      b: snapshot({ INBOX: [entry('m1'), entry('m2'), entry('new-b1', { hash: 'h4' }), entry('new-b2', { hash: 'h5' })] }, ['X']),
    });
    expect(summarize(plan)).toEqual({
      transfers: { a: 2, b: 1 }, links: { a: 0, b: 0 }, copies: { a: 0, b: 0 }, flagChanges: { a: 0, b: 1 }, expunges: { a: 0, b: 1 },
      createFolders: { a: 0, b: 0 }, deleteFolders: { a: 0, b: 0 },
    });
    expect(plan.subscriptions).toEqual({ b: ['X', 'Y'] });
    expect(isEmptyPlan(plan)).toBe(false);
  });

  it('says a plan with only a subscription to write is not empty', () => {
    expect(isEmptyPlan(emptyPlan())).toBe(true);
    expect(isEmptyPlan({ ...emptyPlan(), subscriptions: { a: [] } })).toBe(false);
  });

  it('counts every message of every folder', () => {
    expect(countMessages(snapshot({ INBOX: [entry('a'), entry('b')], Work: [entry('c')], Empty: [] }).folders)).toBe(3);
  });
});

describe('expungesAfterPlacing', () => {
  it('drops the expunge of a name a placement landed on, on that side and folder only', () => {
    const expunges = [{ side: 'b' as const, folder: 'INBOX', guid: 'm' }, { side: 'a' as const, folder: 'INBOX', guid: 'm' }, { side: 'b' as const, folder: 'Archive', guid: 'm' }];
    const landed = new LandedNames();
    landed.add('b', 'INBOX', 'm');
    landed.add('a', 'Other', 'm');
    expect(expungesAfterPlacing(expunges, landed)).toEqual(expunges.slice(1));
    expect(expungesAfterPlacing(expunges, new LandedNames())).toEqual(expunges);
  });
});
