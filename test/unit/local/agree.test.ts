// What two listings of a folder that never holds still agree on.

import { describe, expect, it } from 'vitest';
import { agreedListing, missedBy, withFound } from '../../../src/local/agree.js';

const e = (name: string) => ({ name });
const names = (l: { new: { name: string }[]; cur: { name: string }[] }) => ({ new: l.new.map((x) => x.name), cur: l.cur.map((x) => x.name) });
const guidOf = (x: { name: string }) => (x.name.startsWith('.') ? undefined : x.name.split(':')[0]);

describe('agreedListing', () => {
  it('keeps what both list, drops what one lists only, takes a renamed message under its later name', () => {
    const earlier = { new: [e('d1'), e('m3')], cur: [e('m1:2,S'), e('m2:2,S'), e('gone:2,')] };
    const later = { new: [e('d2')], cur: [e('m1:2,S'), e('m2:2,FS'), e('m3:2,S'), e('.hidden')] };
    expect(names(agreedListing(earlier, later, guidOf))).toEqual({ new: [], cur: ['.hidden', 'm1:2,S', 'm2:2,FS', 'm3:2,S'] });
  });

  it('a message the later lists twice (renamed during it) is taken under the name the earlier did not list', () => {
    const earlier = { new: [], cur: [e('m1:2,S')] };
    const later = { new: [], cur: [e('m1:2,S'), e('m1:2,FS')] };
    expect(names(agreedListing(earlier, later, guidOf))).toEqual({ new: [], cur: ['m1:2,FS'] });
  });

  it('busy-folder-message-missed-by-one-listing: a message the earlier listing missed (renamed during it) is taken when an older listing saw it', () => {
    const earlier = { new: [], cur: [e('m1:2,S')] };
    const later = { new: [e('d1')], cur: [e('m1:2,S'), e('m2:2,F')] };
    expect(names(agreedListing(earlier, later, guidOf, new Set(['m1', 'm2'])))).toEqual({ new: [], cur: ['m1:2,S', 'm2:2,F'] });
    expect(names(agreedListing(earlier, later, guidOf))).toEqual({ new: [], cur: ['m1:2,S'] });
  });

  it('busy-folder-message-missed-by-one-listing: a message the later listing missed is found by a listing after it; an expunged one is not', () => {
    const earlier = { new: [e('d1')], cur: [e('m1:2,S'), e('m2:2,S'), e('gone:2,')] };
    const later = { new: [], cur: [e('m1:2,S'), e('d1:2,')] };
    const missed = missedBy(earlier, later, guidOf);
    expect([...missed].sort()).toEqual(['gone', 'm2']);
    const agreed = agreedListing(earlier, later, guidOf);
    const after = { new: [e('d2')], cur: [e('m1:2,FS'), e('m2:2,FS'), e('d1:2,')] };
    expect(names(withFound(agreed, missed, after, guidOf))).toEqual({ new: [], cur: ['m1:2,S', 'd1:2,', 'm2:2,FS'] });
  });

  it('two files of one GUID in both listings stay two (for the scan to report)', () => {
    const both = { new: [e('m1')], cur: [e('m1:2,S')] };
    expect(names(agreedListing(both, both, guidOf))).toEqual({ new: ['m1'], cur: ['m1:2,S'] });
  });
});
