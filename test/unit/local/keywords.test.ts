// dovecot-keywords: letter ⇄ name per folder, parsed and written back, errors naming file and line.

import { describe, expect, it } from 'vitest';
import { errorOf } from '../../helpers/errors.js';
import { isValidKeyword, KeywordMap } from '../../../src/local/keywords.js';

const PATH = '/mail/.Work/dovecot-keywords';

describe('KeywordMap.parse / format', () => {
  it('maps letters to names and back', () => {
    const map = KeywordMap.parse('0 $Label1\n1 Junk\n3 $Forwarded\n', PATH);
    const unknown: string[] = [];
    expect(map.namesFor('abd', (l) => unknown.push(l))).toEqual(['$Forwarded', '$Label1', 'Junk']);
    expect(map.namesFor('c', (l) => unknown.push(l))).toEqual([]);
    expect(map.namesFor('z', (l) => unknown.push(l))).toEqual([]);
    expect(unknown).toEqual(['c', 'z']);
    expect(map.changed).toBe(false);
  });

  it('writes back what it read, holes included', () => {
    const text = '0 $Label1\n1 Junk\n3 $Forwarded\n25 last\n';
    expect(KeywordMap.parse(text, PATH).format()).toBe(text);
  });

  it('ignores blank lines and a missing final newline', () => {
    expect(KeywordMap.parse('\n0 a\n\n2 c', PATH).format()).toBe('0 a\n2 c\n');
    expect(KeywordMap.parse('', PATH).format()).toBe('');
  });

  const bad: { text: string; line: number }[] = [
    { text: '0 ok\nnonsense\n', line: 2 },
    { text: '26 toofar\n', line: 1 },
    { text: '0 ok\n\n1 two words\n', line: 3 },
    { text: '-1 neg\n', line: 1 },
    { text: '0 bad(paren\n', line: 1 },
    { text: '0 a\r\n', line: 1 },
    { text: '0 \n', line: 1 },
  ];
  it.each(bad)('rejects line $line of $text with BAD_KEYWORDS naming file and line, never quoting it', ({ text, line }) => {
    const err = errorOf(() => KeywordMap.parse(text, PATH));
    expect(err.code).toBe('BAD_KEYWORDS');
    expect(err.message).toBe(`${PATH} line ${line}: not "<0-25> <keyword>"; fix or remove that line`);
  });
});

describe('KeywordMap.lettersFor / knownLetters', () => {
  it('reuses known letters and gives new names the next free index', () => {
    const map = KeywordMap.parse('0 $Label1\n1 Junk\n', PATH);
    expect(map.lettersFor(['Junk', 'New', '$Label1'])).toEqual({ letters: 'abc', dropped: [] });
    expect(map.changed).toBe(true);
    expect(map.format()).toBe('0 $Label1\n1 Junk\n2 New\n');
  });

  it('does not mark the map changed when every name is known', () => {
    const map = KeywordMap.parse('0 x\n1 y\n', PATH);
    expect(map.lettersFor(['y'])).toEqual({ letters: 'b', dropped: [] });
    expect(map.changed).toBe(false);
  });

  it('drops names past the 26th and says which', () => {
    const map = KeywordMap.parse(Array.from({ length: 26 }, (_, i) => `${i} k${i}\n`).join(''), PATH);
    expect(map.lettersFor(['k0', 'more', 'k25', 'again'])).toEqual({ letters: 'az', dropped: ['more', 'again'] });
    expect(map.changed).toBe(false);
  });

  // A parsed map with a hole is a sparse array, and Array#indexOf skips holes: with index 25 used,
  // the free letter below it must still be found rather than the keyword dropped.
  it('gives a new name a free letter left by a hole when z is taken', () => {
    const lines = Array.from({ length: 26 }, (_, i) => (i === 4 ? '' : `${i} k${i}\n`)).join('');
    const map = KeywordMap.parse(lines, PATH);
    expect(map.lettersFor(['extra'])).toEqual({ letters: 'e', dropped: [] });
    expect(map.format()).toContain('4 extra\n');
  });

  it('gives the letters only of names this folder knows', () => {
    const map = KeywordMap.parse('0 x\n2 z\n', PATH);
    expect(map.knownLetters(['z', 'unknown', 'x'])).toBe('ca');
    expect(map.changed).toBe(false);
  });
});

describe('KeywordMap.namesFor', () => {
  it('gives the files carrying one set of letters one frozen array, and the names given since', () => {
    const map = KeywordMap.parse('0 $Forwarded\n1 todo\n', 'dovecot-keywords');
    const none = (): void => undefined;
    const first = map.namesFor('ba', none);
    expect(first).toEqual(['$Forwarded', 'todo']);
    expect(map.namesFor('ba', none)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => (first as string[]).push('x')).toThrow(TypeError);
    // A letter named since changes what the same letters say.
    const unknown: string[] = [];
    expect(map.namesFor('ac', (l) => unknown.push(l))).toEqual(['$Forwarded']);
    map.lettersFor(['later']);
    expect(map.namesFor('ac', (l) => unknown.push(l))).toEqual(['$Forwarded', 'later']);
    // An unnamed letter is reported each time it is met.
    expect(map.namesFor('ad', (l) => unknown.push(l))).toEqual(['$Forwarded']);
    expect(map.namesFor('ad', (l) => unknown.push(l))).toEqual(['$Forwarded']);
    expect(unknown).toEqual(['c', 'd', 'd']);
  });
});

describe('isValidKeyword', () => {
  it.each(['$Label1', 'Junk', 'a[b', 'ümlaut', 'x'.repeat(255)])('accepts %j', (k) => {
    expect(isValidKeyword(k)).toBe(true);
  });
  it.each(['', 'two words', 'a(b', 'a)b', 'a{b', 'a%b', 'a*b', 'a"b', 'a\\b', 'a]b', 'a\tb', 'a\x7fb', 'x'.repeat(256)])('rejects %j', (k) => {
    expect(isValidKeyword(k)).toBe(false);
  });
});
