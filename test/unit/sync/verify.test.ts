// compareSides: messages matched by content, then flags, keywords, location, mtime and (with uids) UIDs compared.

import { describe, expect, it } from 'vitest';
import { compareSides, type VerifyEntry, type VerifySide } from '../../../src/sync/verify.js';

const entry = (guid: string, hash: string, extra: Partial<VerifyEntry> = {}): VerifyEntry => ({
  guid, hash, mtime: 1_600_000_000_000, flags: 'S', keywords: [], location: 'cur', ...extra,
});

const side = (entries: VerifyEntry[], uidValidity?: number): VerifySide => ({
  folders: new Map([['INBOX', entries]]),
  subscriptions: [],
  uidValidity: uidValidity === undefined ? new Map() : new Map([['INBOX', uidValidity]]),
});

describe('compareSides', () => {
  it('matches by content even under another name', () => {
    expect(compareSides(side([entry('a', 'h1')]), side([entry('b', 'h1')]))).toEqual([]);
  });

  it('lists flag, keyword, location and mtime differences, and messages on one side only', () => {
    const diffs = compareSides(
      side([entry('a', 'h1', { flags: 'FS', keywords: ['$X'] }), entry('c', 'h3')]),
      side([entry('a', 'h1', { location: 'new', mtime: 1_600_000_001_000 }), entry('d', 'h4')]),
    ).map((d) => d.what);
    expect(diffs).toEqual([
      'a: flags "FS" ≠ "S", keywords [$X] ≠ [], cur/ ≠ new/, mtime 2020-09-13T12:26:40.000Z ≠ 2020-09-13T12:26:41.000Z',
      'only on the first side: c',
      'only on the second side: d (flags "S" keywords [] in cur/ mtime 2020-09-13T12:26:40.000Z)',
    ]);
  });

  it('a name on both sides with other bytes is one message whose content differs', () => {
    const diffs = compareSides(side([entry('a', 'h1'), entry('b', 'h2')]), side([entry('a', 'h9'), entry('c', 'h3')])).map((d) => d.what);
    expect(diffs).toEqual([
      'a: content differs',
      'only on the first side: b',
      'only on the second side: c (flags "S" keywords [] in cur/ mtime 2020-09-13T12:26:40.000Z)',
    ]);
  });

  it('compares UIDVALIDITY and UIDs only when asked', () => {
    const a = side([entry('a', 'h1', { uid: 1 }), entry('b', 'h2', { uid: 2 })], 100);
    const b = side([entry('a', 'h1', { uid: 1 }), entry('b', 'h2')], 101);
    expect(compareSides(a, b)).toEqual([]);
    expect(compareSides(a, b, { uids: true })).toEqual([
      { folder: 'INBOX', what: 'UIDVALIDITY 100 ≠ 101' },
      { folder: 'INBOX', what: 'b: UID 2 ≠ none' },
    ]);
  });

  it('compares the GUID Dovecot gives each message, with --uids', () => {
    const a = side([entry('a', 'h1', { uid: 1, dovecotGuid: '0123abcd' }), entry('b', 'h2', { uid: 2, dovecotGuid: 'b' })], 100);
    const b = side([entry('a', 'h1', { uid: 1, dovecotGuid: 'a' }), entry('b', 'h2', { uid: 2, dovecotGuid: 'b' })], 100);
    expect(compareSides(a, b)).toEqual([]);
    expect(compareSides(a, b, { uids: true })).toEqual([{ folder: 'INBOX', what: 'a: Dovecot GUID 0123abcd ≠ a' }]);
  });
});
