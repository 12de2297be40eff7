// Flag merging: flags, keywords and the `new` pseudo-flag, three-way, one-way, union and deltas.

import { describe, expect, it } from 'vitest';
import { applyChange, deltaBetween, fromSet, mergeThreeWay, sameFlags, toSet, union, type FlagState } from '../../../src/sync/flags.js';

const f = (flags: string, keywords: string[] = [], location: 'new' | 'cur' = 'cur'): FlagState => ({ flags, keywords, location });

describe('toSet / fromSet', () => {
  it('puts flags, keywords and new/ in one set and back, sorted', () => {
    const s = f('SF', ['work', '$Label1'], 'new');
    expect([...toSet(s)].sort()).toEqual(['$k:$Label1', '$k:work', 'F', 'S', '\\new']);
    expect(fromSet(toSet(s))).toEqual(f('FS', ['$Label1', 'work'], 'new'));
  });

  it('keeps a keyword that looks like a flag letter apart from the flag', () => {
    expect(fromSet(toSet(f('S', ['S'])))).toEqual(f('S', ['S']));
  });
});

describe('sameFlags', () => {
  it.each([
    [f('S'), f('S'), true],
    [f('S'), f('FS'), false],
    [f('S', ['a']), f('S', ['b']), false],
    [f('S', ['a', 'b']), f('S', ['a', 'b']), true],
    [f('S', [], 'new'), f('S', [], 'cur'), false],
    // Keywords are compared as whole names, never by joining them ambiguously.
    [f('', ['a b']), f('', ['a', 'b']), false],
  ])('%j vs %j → %s', (x, y, want) => {
    expect(sameFlags(x, y)).toBe(want);
  });
});

describe('mergeThreeWay', () => {
  const rows: { name: string; a: FlagState; baseA: FlagState; b: FlagState; baseB: FlagState; want: FlagState }[] = [
    { name: 'nothing changed', a: f('S'), baseA: f('S'), b: f('S'), baseB: f('S'), want: f('S') },
    { name: 'added on a', a: f('FS'), baseA: f('S'), b: f('S'), baseB: f('S'), want: f('FS') },
    { name: 'added on b', a: f('S'), baseA: f('S'), b: f('RS'), baseB: f('S'), want: f('RS') },
    { name: 'removed on a', a: f(''), baseA: f('S'), b: f('S'), baseB: f('S'), want: f('') },
    { name: 'removed on b', a: f('FS'), baseA: f('FS'), b: f('S'), baseB: f('FS'), want: f('S') },
    { name: 'added on a, removed on b: each flag its own way', a: f('FS'), baseA: f('S'), b: f(''), baseB: f('S'), want: f('F') },
    { name: 'both added the same', a: f('FS'), baseA: f('S'), b: f('FS'), baseB: f('S'), want: f('FS') },
    { name: 'keywords three-way', a: f('', ['x', 'y']), baseA: f('', ['x']), b: f('', []), baseB: f('', ['x']), want: f('', ['y']) },
    { name: 'seen on a (new/ → cur/)', a: f('S', [], 'cur'), baseA: f('', [], 'new'), b: f('', [], 'new'), baseB: f('', [], 'new'), want: f('S', [], 'cur') },
    { name: 'seen on b', a: f('', [], 'new'), baseA: f('', [], 'new'), b: f('', [], 'cur'), baseB: f('', [], 'new'), want: f('', [], 'cur') },
    // Different bases (after a one-way run): both changed the flag, keep it rather than lose it.
    { name: 'both changed S from different bases', a: f('S'), baseA: f(''), b: f(''), baseB: f('S'), want: f('S') },
    { name: 'sides differ, neither changed since its base: the union', a: f('S', ['x']), baseA: f('S', ['x']), b: f('F', ['y']), baseB: f('F', ['y']), want: f('FS', ['x', 'y']) },
    { name: 'sides differ in new/ vs cur/, neither changed: seen', a: f('', [], 'new'), baseA: f('', [], 'new'), b: f('', [], 'cur'), baseB: f('', [], 'cur'), want: f('', [], 'cur') },
    { name: 'unknown uppercase flags merge like the others', a: f('SX'), baseA: f('S'), b: f('S'), baseB: f('S'), want: f('SX') },
  ];
  it.each(rows)('$name', ({ a, baseA, b, baseB, want }) => {
    expect(mergeThreeWay(a, baseA, b, baseB)).toEqual(want);
  });

  it('is symmetric in its two sides', () => {
    for (const { a, baseA, b, baseB } of rows) expect(mergeThreeWay(b, baseB, a, baseA)).toEqual(mergeThreeWay(a, baseA, b, baseB));
  });
});

describe('applyChange', () => {
  const rows: { name: string; target: FlagState; now: FlagState; base: FlagState; want: FlagState }[] = [
    { name: 'no change since base leaves the target alone', target: f('D', ['own']), now: f('S'), base: f('S'), want: f('D', ['own']) },
    { name: 'an added flag is added', target: f('D'), now: f('FS'), base: f('S'), want: f('DF') },
    { name: 'a removed flag is removed', target: f('DS'), now: f(''), base: f('S'), want: f('D') },
    { name: 'keywords added and removed', target: f('', ['k', 'own']), now: f('', ['n']), base: f('', ['k']), want: f('', ['n', 'own']) },
    { name: 'seen moves the target out of new/', target: f('', [], 'new'), now: f('S', [], 'cur'), base: f('', [], 'new'), want: f('S', [], 'cur') },
    { name: 'the target keeps its own cur/ when the source did not move', target: f('', [], 'cur'), now: f('', [], 'new'), base: f('', [], 'new'), want: f('', [], 'cur') },
  ];
  it.each(rows)('$name', ({ target, now, base, want }) => {
    expect(applyChange(target, now, base)).toEqual(want);
  });
});

describe('union', () => {
  const rows: { name: string; a: FlagState; b: FlagState; want: FlagState }[] = [
    { name: 'flags and keywords', a: f('S', ['x']), b: f('F', ['y']), want: f('FS', ['x', 'y']) },
    { name: 'seen on either side wins over new/', a: f('', [], 'new'), b: f('S', [], 'cur'), want: f('S', [], 'cur') },
    { name: 'new/ on both stays new/', a: f('', [], 'new'), b: f('', [], 'new'), want: f('', [], 'new') },
    { name: 'identical', a: f('RS', ['k']), b: f('RS', ['k']), want: f('RS', ['k']) },
  ];
  it.each(rows)('$name', ({ a, b, want }) => {
    expect(union(a, b)).toEqual(want);
    expect(union(b, a)).toEqual(want);
  });
});

describe('deltaBetween', () => {
  it('adds and removes flags and keywords', () => {
    expect(deltaBetween('g1', f('RS', ['a', 'b']), f('FS', ['b', 'c']))).toEqual({
      guid: 'g1', addFlags: 'F', removeFlags: 'R', addKeywords: ['c'], removeKeywords: ['a'],
    });
  });

  it('says where to move only when the location changes', () => {
    expect(deltaBetween('g1', f('', [], 'new'), f('S', [], 'cur'))).toEqual({
      guid: 'g1', addFlags: 'S', removeFlags: '', addKeywords: [], removeKeywords: [], location: 'cur',
    });
    expect(deltaBetween('g1', f('S', [], 'cur'), f('S', [], 'new'))).toEqual({
      guid: 'g1', addFlags: '', removeFlags: '', addKeywords: [], removeKeywords: [], location: 'new',
    });
  });

  it('is empty between equal states', () => {
    expect(deltaBetween('g1', f('S', ['k']), f('S', ['k']))).toEqual({ guid: 'g1', addFlags: '', removeFlags: '', addKeywords: [], removeKeywords: [] });
  });
});
