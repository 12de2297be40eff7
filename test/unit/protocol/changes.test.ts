// The `changes` request on the wire: its fields checked one by one, then the answer as a whole.

import { describe, expect, it } from 'vitest';
import { MdsyncError } from '../../../src/errors.js';
import { changesFromWire } from '../../../src/protocol/changes.js';
import { MANIFEST_PAGE } from '../../../src/protocol/limits.js';
import { METHODS, type Result } from '../../../src/protocol/messages.js';

const DIGEST = '0123456789abcdef0123456789abcdef';
const HASH = 'ab'.repeat(32);
const entry = (guid: string, location = 'cur', hash: string | null = HASH): unknown[] => [guid, 'S', [], location, 120, null, 7, hash, null];
const answer = (value: unknown): Result<'changes'> => METHODS.changes.result(value, 'answer to changes');

describe('the changes request', () => {
  it('takes a folder and a folder digest', () => {
    expect(METHODS.changes.args({ folder: 'Work/Q1', since: DIGEST }, 'changes')).toEqual({ folder: 'Work/Q1', since: DIGEST });
  });

  it.each([
    ['upper-case hex', DIGEST.toUpperCase(), /changes\.since: expected a folder digest \(32 hex digits\)/],
    ['not hex', 'z'.repeat(32), /changes\.since: expected a folder digest \(32 hex digits\)/],
    ['too short', DIGEST.slice(1), /changes\.since: expected a folder digest/],
    ['too long', `${DIGEST}0`, /changes\.since: longer than 32 characters/],
    ['a SHA-256', HASH, /changes\.since: longer than 32 characters/],
    ['a number', 42, /changes\.since: expected a string, got 42/],
  ])('refuses a digest that is %s', (_what, since, text) => {
    expect(() => METHODS.changes.args({ folder: 'INBOX', since }, 'changes')).toThrow(text);
  });

  it('answers nothing, or entries changed and GUIDs gone', () => {
    expect(answer(null)).toBeNull();
    expect(answer({ changed: [entry('1600000001.M1P1.host')], gone: ['1600000002.M2P1.host'] })).toEqual({
      changed: [['1600000001.M1P1.host', 'S', [], 'cur', 120, null, 7, HASH, null]], gone: ['1600000002.M2P1.host'],
    });
  });

  it.each([
    ['a GUID with "/"', { changed: [entry('../x')], gone: [] }, /answer to changes\.changed\[0\]\[0\]: GUID "\.\.\/x" contains "\/"/],
    ['a hidden GUID', { changed: [], gone: ['.x'] }, /answer to changes\.gone\[0\]: GUID "\.x" starts with "\."/],
    ['a gone GUID with "/"', { changed: [], gone: ['cur/x'] }, /answer to changes\.gone\[0\]: GUID "cur\/x" contains "\/"/],
    ['a location other than new or cur', { changed: [entry('x', 'tmp')], gone: [] }, /answer to changes\.changed\[0\]\[3\]: expected one of new, cur, got "tmp"/],
    ['a hash not in hex', { changed: [entry('x', 'cur', 'zz'.repeat(32))], gone: [] }, /answer to changes\.changed\[0\]\[7\]: expected a SHA-256 in hex/],
    ['no gone list', { changed: [] }, /answer to changes: missing field "gone"/],
    ['more than a page', { changed: [], gone: Array.from({ length: MANIFEST_PAGE + 1 }, (_, i) => `g${i}`) }, /answer to changes\.gone: more than 20000 entries/],
  ])('refuses an answer with %s', (_what, value, text) => {
    expect(() => answer(value)).toThrow(text);
  });
});

describe('an answer to changes, as a whole', () => {
  const told = (value: unknown): ReturnType<typeof changesFromWire> => changesFromWire(answer(value) as NonNullable<Result<'changes'>>, 'host:/srv/mail', 'Work');

  it('becomes the entries and the GUIDs gone, with what the far side knows of each', () => {
    expect(told({ changed: [entry('a'), ['b', '', ['$Label1'], 'new', null, ',W=9', null, null, 'c0ffee']], gone: ['c'] })).toEqual({
      changed: [
        { guid: 'a', flags: 'S', keywords: [], location: 'cur', size: 120, uid: 7, hash: HASH },
        { guid: 'b', flags: '', keywords: ['$Label1'], location: 'new', infoRest: ',W=9', dovecotGuid: 'c0ffee' },
      ],
      gone: ['c'],
    });
  });

  it.each([
    ['both changed and gone', { changed: [entry('a')], gone: ['a'] }, 'answer to changes.gone[0] (folder "Work"): GUID "a" is also in changes.changed[0]'],
    ['changed twice', { changed: [entry('b'), entry('a'), entry('a', 'new')], gone: [] }, 'answer to changes.changed[2] (folder "Work"): GUID "a" is also in changes.changed[1]'],
    ['gone twice', { changed: [], gone: ['a', 'b', 'a'] }, 'answer to changes.gone[2] (folder "Work"): GUID "a" is also in changes.gone[0]'],
    [
      'more than a page in all',
      { changed: [entry('a')], gone: Array.from({ length: MANIFEST_PAGE }, (_, i) => `g${i}`) },
      `answer to changes.changed (folder "Work"): ${MANIFEST_PAGE + 1} messages changed and gone, more than the ${MANIFEST_PAGE} one answer may hold`,
    ],
  ])('is a protocol error naming the peer, the folder and the field when a message is %s', (_what, value, text) => {
    let thrown: unknown;
    try {
      told(value);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MdsyncError);
    expect((thrown as MdsyncError).code).toBe('PROTOCOL');
    expect((thrown as MdsyncError).message).toBe(`host:/srv/mail: protocol error: ${text}`);
  });
});
