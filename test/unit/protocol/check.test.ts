// The wire's GUID check: a base name from a peer is one path component that reads back as itself.

import { describe, expect, it } from 'vitest';
import { errorOf } from '../../helpers/errors.js';
import { guid } from '../../../src/protocol/check.js';

describe('guid', () => {
  it.each(['1600000000.M1P1.host,S=12', '1600000000.M1P1.host!x', 'a:b', 'a;2x,S'])('takes %j', (g) => {
    expect(guid(g, 'g')).toBe(g);
  });

  it.each([
    ['', /empty GUID/],
    ['../x', /contains "\/"/],
    ['.hidden', /starts with "\."/],
    ['a\nb', /holds a control character/],
    ['a\x7fb', /holds a control character/],
    // Written bare in new/, each would read back as message "a" with a flag.
    ['a:2,F', /holds the info mark ":2,"/],
    ['a!2,S', /holds the info mark "!2,"/],
    ['a;2,T', /holds the info mark ";2,"/],
    ['X:2,S:2,', /holds the info mark ":2,"/],
  ])('refuses %j', (g, why) => {
    const err = errorOf(() => guid(g, 'entries[0][0]'));
    expect(err.code).toBe('PROTOCOL');
    expect(err.message).toMatch(/^entries\[0\]\[0\]: /);
    expect(err.message).toMatch(why);
  });
});
