// A side's partial listing (a folder that never held still): what it left out is neither gone
// (nothing expunged, its record kept) nor missing (nothing copied into it on a first meeting).

import { describe, expect, it } from 'vitest';
import { diff, type SideSnapshot } from '../../../src/sync/diff.js';
import type { Mode } from '../../../src/sync/plan.js';
import { agreed, entry, snapshot, state } from '../../helpers/manifest.js';

const partial = (s: SideSnapshot): SideSnapshot => ({ ...s, partial: new Set(['INBOX']) });

describe('a partial listing in the diff', () => {
  it.each(['sync', 'backup'] as Mode[])('%s: a known message the source left out is kept, not expunged on the replica', (mode) => {
    const st = state({ INBOX: { messages: [agreed('h1', 'm1'), agreed('h2', 'm2')] } });
    const a = partial(snapshot({ INBOX: [entry('m1')] }));
    const b = snapshot({ INBOX: [entry('m1'), entry('m2')] });
    const plan = diff({ mode, a, b, state: st });
    expect(plan.expunges).toEqual([]);
    expect(plan.keep.INBOX).toContainEqual(agreed('h2', 'm2'));
    // The same listing whole: m2 is expunged.
    expect(diff({ mode, a: snapshot({ INBOX: [entry('m1')] }), b, state: st }).expunges).toEqual([{ side: 'b', folder: 'INBOX', guid: 'm2' }]);
  });

  it('sync: a message left out on both is kept (the side that listed partially may still hold it)', () => {
    const st = state({ INBOX: { messages: [agreed('h2', 'm2')] } });
    const plan = diff({ mode: 'sync', a: partial(snapshot({ INBOX: [] })), b: snapshot({ INBOX: [] }), state: st });
    expect(plan.keep.INBOX).toEqual([agreed('h2', 'm2')]);
  });

  it('sync: new mail on the other side goes into the partial one only where a saved state tells it is new', () => {
    const b = snapshot({ INBOX: [entry('n1', { hash: 'hn' })] });
    const withState = diff({ mode: 'sync', a: partial(snapshot({ INBOX: [] })), b, state: state({ INBOX: { messages: [] } }) });
    expect(withState.transfers.map((t) => t.sourceGuid)).toEqual(['n1']);
    const firstMeeting = diff({ mode: 'sync', a: partial(snapshot({ INBOX: [] })), b });
    expect(firstMeeting.transfers).toEqual([]);
  });

  it('backup: a replica message the source does not list is left alone while the source lists partially', () => {
    const b = snapshot({ INBOX: [entry('x1', { hash: 'hx' })] });
    expect(diff({ mode: 'backup', a: partial(snapshot({ INBOX: [] })), b, state: state({ INBOX: { messages: [] } }) }).expunges).toEqual([]);
  });

  it('copies what the partial side lists, and applies its flag changes', () => {
    const st = state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] } });
    const a = partial(snapshot({ INBOX: [entry('m1', { flags: 'FS' }), entry('n1', { hash: 'hn' })] }));
    const plan = diff({ mode: 'backup', a, b: snapshot({ INBOX: [entry('m1', { flags: 'S' })] }), state: st });
    expect(plan.transfers.map((t) => t.sourceGuid)).toEqual(['n1']);
    expect(plan.flagChanges.map((f) => f.delta.addFlags)).toEqual(['F']);
  });
});
