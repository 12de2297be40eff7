// Folder digests: order does not matter, and a digest follows changes by adding and removing.

import { describe, expect, it } from 'vitest';
import { Digest, digestEntries } from '../../src/digest.js';
import { entry } from '../helpers/manifest.js';

const entries = [entry('m1', { flags: 'S' }), entry('m2', { keywords: ['$Label1'], location: 'new' }), entry('m3', { flags: 'FS', infoRest: ',M=1' })];

describe('digestEntries', () => {
  it('is the same in any order, and differs for any other flags, keyword, location or info', () => {
    const d = digestEntries(entries);
    expect(d).toMatch(/^[0-9a-f]{32}$/);
    expect(digestEntries([...entries].reverse())).toBe(d);
    const [e1, e2, e3] = entries as [typeof entries[0], typeof entries[0], typeof entries[0]];
    for (const changed of [{ ...e1, flags: 'RS' }, { ...e1, keywords: ['x'] }, { ...e1, location: 'new' as const }, { ...e1, infoRest: ',X' }, { ...e1, guid: 'm9' }]) {
      expect(digestEntries([changed, e2, e3])).not.toBe(d);
    }
    expect(digestEntries([])).toBe('0'.repeat(32));
  });

  it('follows a change by removing what left and adding what came', () => {
    const [e1, e2, e3] = entries as [typeof entries[0], typeof entries[0], typeof entries[0]];
    const renamed = { ...e2, flags: 'S', location: 'cur' as const };
    const d = Digest.parse(digestEntries(entries)) as Digest;
    d.remove(e2).add(renamed).remove(e3);
    expect(d.hex()).toBe(digestEntries([renamed, e1]));
  });

  it('parses only its own form', () => {
    expect(Digest.parse('xyz')).toBeUndefined();
    expect(Digest.parse('A'.repeat(32))).toBeUndefined();
    const d = digestEntries(entries);
    expect(Digest.parse(d)?.hex()).toBe(d);
  });
});
