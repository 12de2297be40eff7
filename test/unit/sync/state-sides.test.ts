// A saved state turned round for a run that names its sides the other way: every per-side field swapped, records only when read.

import { describe, expect, it } from 'vitest';
import { orientState, swapSides } from '../../../src/sync/state-sides.js';
import { parseState, serializeState, sideCount, sideDigest, type SyncState } from '../../../src/sync/state.js';
import { agreed, rec, state, stateMessage } from '../../helpers/manifest.js';

const sample = (): SyncState => {
  const s = state({
    INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' }), stateMessage('h2', rec('m2', { keywords: ['$Label1'], location: 'new' }), rec('x9', { location: 'new' }), ',M=1')] },
    Drafts: { onA: true, onB: false, messages: [stateMessage('h3', rec('d1'), undefined)] },
  }, ['Drafts', 'INBOX']);
  return { ...s, idA: 'X', idB: 'Y', folders: { ...s.folders, INBOX: { ...s.folders.INBOX!, uidValidity: { a: 7 } } } };
};

const loaded = (s: SyncState): SyncState => {
  const parsed = parseState(serializeState(s));
  if (parsed.kind !== 'ok') throw new Error(parsed.why);
  return parsed.state;
};

describe('swapSides', () => {
  it('exchanges ids, presences, UIDVALIDITY, counts, digests and records', () => {
    const s = loaded(sample());
    const t = swapSides(s);
    expect([t.idA, t.idB]).toEqual(['Y', 'X']);
    const drafts = t.folders.Drafts!;
    expect([drafts.onA, drafts.onB]).toEqual([false, true]);
    expect(t.folders.INBOX!.uidValidity).toEqual({ b: 7 });
    expect(sideCount(drafts, 'a')).toBe(0);
    expect(sideCount(drafts, 'b')).toBe(1);
    expect(sideDigest(t.folders.INBOX!, 'a')).toBe(sideDigest(s.folders.INBOX!, 'b'));
    expect(t.folders.INBOX!.messages[1]).toEqual({ hash: 'h2', infoRest: ',M=1', a: rec('x9', { location: 'new' }), b: rec('m2', { keywords: ['$Label1'], location: 'new' }) });
    expect(drafts.messages).toEqual([{ hash: 'h3', b: rec('d1') }]);
  });

  it('saves what it read, and twice round is the state it was', () => {
    const saved = loaded(swapSides(loaded(sample())));
    expect(saved.folders.INBOX!.messages[0]).toEqual(agreed('h1', 'm1', { flags: 'S' }));
    expect(swapSides(saved)).toEqual(sample());
  });
});

describe('orientState', () => {
  it('keeps a state in this run\'s order and swaps one saved the other way, also when one side alone is known', () => {
    const s = loaded(sample());
    expect(orientState(s, 'X', 'Y')).toBe(s);
    expect(orientState(s, 'Y', 'X')?.idA).toBe('Y');
    expect(orientState(s, 'Y', 'Z')?.idA).toBe('Y');
    expect(orientState(s, 'Z', 'X')?.idB).toBe('X');
    expect(orientState(s, 'X', 'Z')).toBe(s);
    expect(orientState(s, 'P', 'Q')).toBe(s);
  });

  it('tells a local side from a far one by its host when their raw ids are equal, and will not guess when alike', () => {
    const s = { ...loaded(sample()), idA: '5:7:b1', idB: 'far:5:7:b1' };
    expect(orientState(s, 'far:5:7:b1', '5:7:b1')!.idA).toBe('far:5:7:b1');
    expect(orientState({ ...s, idB: '5:7:b1' }, '5:7:b1', '5:7:b1')).toBeUndefined();
    expect(orientState(s, '5:7:b1', '5:7:b1')).toBeUndefined();
  });

  it('takes a state saved with dev:ino once, and gives it this run\'s ids', () => {
    const s = { ...loaded(sample()), idA: '5:7', idB: '5:9' };
    const t = orientState(s, 'far:5:9:b2', '5:7:b1')!;
    expect([t.idA, t.idB]).toEqual(['far:5:9:b2', '5:7:b1']);
    expect(t.folders.Drafts!.onB).toBe(true);
    expect(orientState({ ...s, idB: '5:7' }, '5:7:b1', 'far:5:7:b2')).toBeUndefined();
    expect(orientState(s, '5:70:b1', '5:9:b3')).toEqual({ ...s, idB: '5:9:b3' });
  });
});
