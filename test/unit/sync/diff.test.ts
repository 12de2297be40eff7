// The merge table (DESIGN §8): one row per rule, with the exact plan each mode must make.

import { describe, expect, it } from 'vitest';
import { diff, hashNeeds, type DiffInput, type SideSnapshot } from '../../../src/sync/diff.js';
import { isEmptyPlan, summarize, type Mode, type Plan } from '../../../src/sync/plan.js';
import type { SyncState } from '../../../src/sync/state.js';
import { agreed, canonicalPlan, entry, mirrorPlan, mirrorState, rec, snapshot, state, stateAfter, stateMessage } from '../../helpers/manifest.js';

const MODES: Mode[] = ['sync', 'one-way', 'backup'];
const BOTH = { a: true, b: true };

function planOf(mode: Mode, parts: Partial<Plan>): Plan {
  return {
    mode, createFolders: [], transfers: [], copies: [], flagChanges: [], expunges: [], deleteFolders: [], subscriptions: {},
    keep: {}, folderPresence: { INBOX: BOTH }, subscriptionsAfter: [], warnings: [], ...parts,
  };
}

const delta = (guid: string, d: { addFlags?: string; removeFlags?: string; addKeywords?: string[]; removeKeywords?: string[]; location?: 'new' | 'cur' }) => ({
  guid, addFlags: d.addFlags ?? '', removeFlags: d.removeFlags ?? '', addKeywords: d.addKeywords ?? [], removeKeywords: d.removeKeywords ?? [],
  ...(d.location ? { location: d.location } : {}),
});

/** A transfer of a message as it is on `from`, with the state record both sides will share. */
function transfer(from: 'a' | 'b', folder: string, guid: string, hash: string, flags = '', keywords: string[] = [], location: 'new' | 'cur' = 'cur') {
  const r = rec(guid, { flags, keywords, location });
  return { from, folder, sourceGuid: guid, flags, keywords, location, record: stateMessage(hash, r, r) };
}

/** A snapshot whose INBOX scan skipped these names. */
function skipping(snap: SideSnapshot, guids: string[]): SideSnapshot {
  const inbox = snap.folders.get('INBOX');
  if (inbox) inbox.skipped = guids;
  return snap;
}

/** The same plan whatever the mode. */
const inEveryMode = (parts: Partial<Plan>): Record<Mode, Partial<Plan>> => ({ sync: parts, 'one-way': parts, backup: parts });

interface Row {
  rule: string;
  a: SideSnapshot;
  b: SideSnapshot;
  state?: SyncState;
  want: Record<Mode, Partial<Plan>>;
}

const rows: Row[] = [
  {
    rule: 'both present, known: flags merge per flag (added on a, removed on b)',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] } }),
    a: snapshot({ INBOX: [entry('m1', { flags: 'FS' })] }),
    b: snapshot({ INBOX: [entry('m1', { flags: '' })] }),
    want: {
      sync: {
        flagChanges: [{ side: 'a', folder: 'INBOX', delta: delta('m1', { removeFlags: 'S' }) }, { side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'F' }) }],
        keep: { INBOX: [agreed('h1', 'm1', { flags: 'F' })] },
      },
      // a's change (F added) reaches b; b's own (S removed) stays on b.
      'one-way': {
        flagChanges: [{ side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'F' }) }],
        keep: { INBOX: [stateMessage('h1', rec('m1', { flags: 'FS' }), rec('m1', { flags: 'F' }))] },
      },
      backup: {
        flagChanges: [{ side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'FS' }) }],
        keep: { INBOX: [agreed('h1', 'm1', { flags: 'FS' })] },
      },
    },
  },
  {
    rule: 'both present, known: keywords and new/ merge (seen on a, keyword on b)',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { location: 'new' })] } }),
    a: snapshot({ INBOX: [entry('m1', { flags: 'S', location: 'cur' })] }),
    b: snapshot({ INBOX: [entry('m1', { keywords: ['work'], location: 'new' })] }),
    want: {
      sync: {
        flagChanges: [
          { side: 'a', folder: 'INBOX', delta: delta('m1', { addKeywords: ['work'] }) },
          { side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'S', location: 'cur' }) },
        ],
        keep: { INBOX: [agreed('h1', 'm1', { flags: 'S', keywords: ['work'] })] },
      },
      'one-way': {
        flagChanges: [{ side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'S', location: 'cur' }) }],
        keep: { INBOX: [stateMessage('h1', rec('m1', { flags: 'S' }), rec('m1', { flags: 'S', keywords: ['work'] }))] },
      },
      backup: {
        flagChanges: [{ side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'S', removeKeywords: ['work'], location: 'cur' }) }],
        keep: { INBOX: [agreed('h1', 'm1', { flags: 'S' })] },
      },
    },
  },
  {
    rule: 'both present, known, changed on b only',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] } }),
    a: snapshot({ INBOX: [entry('m1', { flags: 'S' })] }),
    b: snapshot({ INBOX: [entry('m1', { flags: 'FS' })] }),
    want: {
      sync: { flagChanges: [{ side: 'a', folder: 'INBOX', delta: delta('m1', { addFlags: 'F' }) }], keep: { INBOX: [agreed('h1', 'm1', { flags: 'FS' })] } },
      'one-way': { keep: { INBOX: [stateMessage('h1', rec('m1', { flags: 'S' }), rec('m1', { flags: 'FS' }))] } },
      backup: { flagChanges: [{ side: 'b', folder: 'INBOX', delta: delta('m1', { removeFlags: 'F' }) }], keep: { INBOX: [agreed('h1', 'm1', { flags: 'S' })] } },
    },
  },
  {
    rule: 'expunged on b, flagged on a: expunge wins',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] } }),
    a: snapshot({ INBOX: [entry('m1', { flags: 'FS' })] }),
    b: snapshot({ INBOX: [] }),
    want: {
      sync: { expunges: [{ side: 'a', folder: 'INBOX', guid: 'm1' }] },
      'one-way': { keep: { INBOX: [stateMessage('h1', rec('m1', { flags: 'FS' }), undefined)] } },
      backup: { transfers: [transfer('a', 'INBOX', 'm1', 'h1', 'FS')] },
    },
  },
  {
    rule: 'expunged on a, flagged on b: expunge wins',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] } }),
    a: snapshot({ INBOX: [] }),
    b: snapshot({ INBOX: [entry('m1', { flags: 'FS' })] }),
    want: {
      sync: { expunges: [{ side: 'b', folder: 'INBOX', guid: 'm1' }] },
      'one-way': { expunges: [{ side: 'b', folder: 'INBOX', guid: 'm1' }] },
      backup: { expunges: [{ side: 'b', folder: 'INBOX', guid: 'm1' }] },
    },
  },
  {
    rule: 'new on a',
    state: state({ INBOX: { messages: [] } }),
    a: snapshot({ INBOX: [entry('m2', { flags: 'S', keywords: ['k'], hash: 'h2', size: 10 })] }),
    b: snapshot({ INBOX: [] }),
    want: {
      sync: { transfers: [transfer('a', 'INBOX', 'm2', 'h2', 'S', ['k'])] },
      'one-way': { transfers: [transfer('a', 'INBOX', 'm2', 'h2', 'S', ['k'])] },
      backup: { transfers: [transfer('a', 'INBOX', 'm2', 'h2', 'S', ['k'])] },
    },
  },
  {
    rule: 'new on b',
    state: state({ INBOX: { messages: [] } }),
    a: snapshot({ INBOX: [] }),
    b: snapshot({ INBOX: [entry('m2', { location: 'new', hash: 'h2' })] }),
    want: {
      sync: { transfers: [transfer('b', 'INBOX', 'm2', 'h2', '', [], 'new')] },
      'one-way': { keep: { INBOX: [stateMessage('h2', undefined, rec('m2', { location: 'new' }))] } },
      backup: { expunges: [{ side: 'b', folder: 'INBOX', guid: 'm2' }] },
    },
  },
  {
    rule: 'new on a with its info rest, no hash known yet (filled when placed)',
    a: snapshot({ INBOX: [entry('m2', { flags: 'S', infoRest: ',M=1', size: 5 })] }),
    b: snapshot({ INBOX: [] }),
    want: {
      sync: { transfers: [{ ...transfer('a', 'INBOX', 'm2', '', 'S'), infoRest: ',M=1', record: stateMessage('', rec('m2', { flags: 'S' }), rec('m2', { flags: 'S' }), ',M=1') }] },
      'one-way': { transfers: [{ ...transfer('a', 'INBOX', 'm2', '', 'S'), infoRest: ',M=1', record: stateMessage('', rec('m2', { flags: 'S' }), rec('m2', { flags: 'S' }), ',M=1') }] },
      backup: { transfers: [{ ...transfer('a', 'INBOX', 'm2', '', 'S'), infoRest: ',M=1', record: stateMessage('', rec('m2', { flags: 'S' }), rec('m2', { flags: 'S' }), ',M=1') }] },
    },
  },
  {
    rule: 'first meeting, same bytes: union of flags',
    a: snapshot({ INBOX: [entry('m1', { flags: 'S', keywords: ['x'], hash: 'h1', size: 10 })] }),
    b: snapshot({ INBOX: [entry('m1', { flags: 'F', location: 'new', hash: 'h1', size: 10 })] }),
    want: {
      sync: {
        flagChanges: [
          { side: 'a', folder: 'INBOX', delta: delta('m1', { addFlags: 'F' }) },
          { side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'S', addKeywords: ['x'], location: 'cur' }) },
        ],
        keep: { INBOX: [agreed('h1', 'm1', { flags: 'FS', keywords: ['x'] })] },
      },
      'one-way': {
        flagChanges: [{ side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'S', addKeywords: ['x'], location: 'cur' }) }],
        keep: { INBOX: [stateMessage('h1', rec('m1', { flags: 'S', keywords: ['x'] }), rec('m1', { flags: 'FS', keywords: ['x'] }))] },
      },
      backup: {
        flagChanges: [{ side: 'b', folder: 'INBOX', delta: delta('m1', { addFlags: 'S', removeFlags: 'F', addKeywords: ['x'], location: 'cur' }) }],
        keep: { INBOX: [agreed('h1', 'm1', { flags: 'S', keywords: ['x'] })] },
      },
    },
  },
  {
    rule: 'first meeting, different bytes: a collision, both kept',
    a: snapshot({ INBOX: [entry('m1', { flags: 'S', hash: 'h1', size: 10 })] }),
    b: snapshot({ INBOX: [entry('m1', { hash: 'h9', size: 10 })] }),
    want: {
      sync: { transfers: [transfer('a', 'INBOX', 'm1', 'h1', 'S'), transfer('b', 'INBOX', 'm1', 'h9')] },
      'one-way': { transfers: [transfer('a', 'INBOX', 'm1', 'h1', 'S')], keep: { INBOX: [stateMessage('h9', undefined, rec('m1'))] } },
      backup: { transfers: [transfer('a', 'INBOX', 'm1', 'h1', 'S')], expunges: [{ side: 'b', folder: 'INBOX', guid: 'm1' }] },
    },
  },
  {
    rule: 'first meeting, different sizes: a collision without reading a byte',
    a: snapshot({ INBOX: [entry('m1', { size: 10 })] }),
    b: snapshot({ INBOX: [entry('m1', { size: 11 })] }),
    want: {
      sync: { transfers: [transfer('a', 'INBOX', 'm1', ''), transfer('b', 'INBOX', 'm1', '')] },
      'one-way': { transfers: [transfer('a', 'INBOX', 'm1', '')], keep: { INBOX: [stateMessage('', undefined, rec('m1'))] } },
      backup: { transfers: [transfer('a', 'INBOX', 'm1', '')], expunges: [{ side: 'b', folder: 'INBOX', guid: 'm1' }] },
    },
  },
  {
    rule: 'expunged on both: forgotten',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] } }),
    a: snapshot({ INBOX: [] }),
    b: snapshot({ INBOX: [] }),
    want: { sync: {}, 'one-way': {}, backup: {} },
  },
  {
    rule: 'moved on a (INBOX → Archive, new name, same bytes): a local copy on b, then the old one expunged',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] }, Archive: { messages: [] } }),
    a: snapshot({ INBOX: [], Archive: [entry('m2', { flags: 'S', hash: 'h1' })] }),
    b: snapshot({ INBOX: [entry('m1', { flags: 'S' })], Archive: [] }),
    want: inEveryMode({
      copies: [{
        side: 'b', folder: 'Archive',
        request: { fromFolder: 'INBOX', fromGuid: 'm1', guid: 'm2', flags: 'S', keywords: [], location: 'cur' },
        record: agreed('h1', 'm2', { flags: 'S' }),
      }],
      expunges: [{ side: 'b', folder: 'INBOX', guid: 'm1' }],
      folderPresence: { INBOX: BOTH, Archive: BOTH },
    }),
  },
  {
    rule: 'moved on b',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] }, Archive: { messages: [] } }),
    a: snapshot({ INBOX: [entry('m1', { flags: 'S' })], Archive: [] }),
    b: snapshot({ INBOX: [], Archive: [entry('m2', { flags: 'S', hash: 'h1' })] }),
    want: {
      sync: {
        copies: [{
          side: 'a', folder: 'Archive',
          request: { fromFolder: 'INBOX', fromGuid: 'm1', guid: 'm2', flags: 'S', keywords: [], location: 'cur' },
          record: agreed('h1', 'm2', { flags: 'S' }),
        }],
        expunges: [{ side: 'a', folder: 'INBOX', guid: 'm1' }],
        folderPresence: { INBOX: BOTH, Archive: BOTH },
      },
      // b's move stays on b.
      'one-way': {
        keep: { INBOX: [stateMessage('h1', rec('m1', { flags: 'S' }), undefined)], Archive: [stateMessage('h1', undefined, rec('m2', { flags: 'S' }))] },
        folderPresence: { INBOX: BOTH, Archive: BOTH },
      },
      // b is put back as a has it: moved back, locally.
      backup: {
        copies: [{
          side: 'b', folder: 'INBOX',
          request: { fromFolder: 'Archive', fromGuid: 'm2', guid: 'm1', flags: 'S', keywords: [], location: 'cur' },
          record: agreed('h1', 'm1', { flags: 'S' }),
        }],
        expunges: [{ side: 'b', folder: 'Archive', guid: 'm2' }],
        folderPresence: { INBOX: BOTH, Archive: BOTH },
      },
    },
  },
  {
    rule: 'moved on a while b flagged it: a copy with a\'s flags, the flag change on b lost (expunge wins)',
    state: state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] }, Archive: { messages: [] } }),
    a: snapshot({ INBOX: [], Archive: [entry('m2', { flags: 'S', hash: 'h1' })] }),
    b: snapshot({ INBOX: [entry('m1', { flags: 'FS' })], Archive: [] }),
    want: inEveryMode({
      copies: [{
        side: 'b', folder: 'Archive',
        request: { fromFolder: 'INBOX', fromGuid: 'm1', guid: 'm2', flags: 'S', keywords: [], location: 'cur' },
        record: agreed('h1', 'm2', { flags: 'S' }),
      }],
      expunges: [{ side: 'b', folder: 'INBOX', guid: 'm1' }],
      folderPresence: { INBOX: BOTH, Archive: BOTH },
    }),
  },
  {
    rule: 'folder created on a, with a message moved into it',
    state: state({ INBOX: { messages: [agreed('h1', 'm1')] } }),
    a: snapshot({ INBOX: [], Work: [entry('w1', { hash: 'h1' }), entry('w2', { hash: 'h2' })] }),
    b: snapshot({ INBOX: [entry('m1')] }),
    want: inEveryMode({
      createFolders: [{ side: 'b', folder: 'Work' }],
      transfers: [transfer('a', 'Work', 'w2', 'h2')],
      copies: [{ side: 'b', folder: 'Work', request: { fromFolder: 'INBOX', fromGuid: 'm1', guid: 'w1', flags: '', keywords: [], location: 'cur' }, record: agreed('h1', 'w1') }],
      expunges: [{ side: 'b', folder: 'INBOX', guid: 'm1' }],
      folderPresence: { INBOX: BOTH, Work: BOTH },
    }),
  },
  {
    rule: 'folder created on b',
    state: state({ INBOX: { messages: [] } }),
    a: snapshot({ INBOX: [] }),
    b: snapshot({ INBOX: [], Work: [entry('w1', { hash: 'h5' })] }),
    want: {
      sync: { createFolders: [{ side: 'a', folder: 'Work' }], transfers: [transfer('b', 'Work', 'w1', 'h5')], folderPresence: { INBOX: BOTH, Work: BOTH } },
      'one-way': { keep: { Work: [stateMessage('h5', undefined, rec('w1'))] }, folderPresence: { INBOX: BOTH, Work: { a: false, b: true } } },
      backup: { expunges: [{ side: 'b', folder: 'Work', guid: 'w1' }], deleteFolders: [{ side: 'b', folder: 'Work', messages: 1 }] },
    },
  },
  {
    rule: 'folder renamed on a (Old → New): deleted on b, created, its messages moved locally',
    state: state({ INBOX: { messages: [] }, Old: { messages: [agreed('h1', 'o1'), agreed('h2', 'o2', { flags: 'S' })] } }),
    a: snapshot({ INBOX: [], New: [entry('n1', { hash: 'h1' }), entry('n2', { flags: 'S', hash: 'h2' })] }),
    b: snapshot({ INBOX: [], Old: [entry('o1'), entry('o2', { flags: 'S' })] }),
    want: inEveryMode({
      createFolders: [{ side: 'b', folder: 'New' }],
      copies: [
        { side: 'b', folder: 'New', request: { fromFolder: 'Old', fromGuid: 'o1', guid: 'n1', flags: '', keywords: [], location: 'cur' }, record: agreed('h1', 'n1') },
        { side: 'b', folder: 'New', request: { fromFolder: 'Old', fromGuid: 'o2', guid: 'n2', flags: 'S', keywords: [], location: 'cur' }, record: agreed('h2', 'n2', { flags: 'S' }) },
      ],
      expunges: [{ side: 'b', folder: 'Old', guid: 'o1' }, { side: 'b', folder: 'Old', guid: 'o2' }],
      deleteFolders: [{ side: 'b', folder: 'Old', messages: 2 }],
      folderPresence: { INBOX: BOTH, New: BOTH },
    }),
  },
  {
    rule: 'folder deleted on a, b holds nothing new in it (a flag change is not new): deleted on b',
    state: state({ INBOX: { messages: [] }, Work: { messages: [agreed('h1', 'w1')] } }),
    a: snapshot({ INBOX: [] }),
    b: snapshot({ INBOX: [], Work: [entry('w1', { flags: 'F' })] }),
    want: inEveryMode({
      expunges: [{ side: 'b', folder: 'Work', guid: 'w1' }],
      deleteFolders: [{ side: 'b', folder: 'Work', messages: 1 }],
    }),
  },
  {
    rule: 'folder deleted on a, b got new mail in it: recreated on a with everything',
    state: state({ INBOX: { messages: [] }, Work: { messages: [agreed('h1', 'w1')] } }),
    a: snapshot({ INBOX: [] }),
    b: snapshot({ INBOX: [], Work: [entry('w1', { hash: 'h1' }), entry('w2', { hash: 'h2' })] }),
    want: {
      sync: {
        createFolders: [{ side: 'a', folder: 'Work' }],
        transfers: [transfer('b', 'Work', 'w1', 'h1'), transfer('b', 'Work', 'w2', 'h2')],
        folderPresence: { INBOX: BOTH, Work: BOTH },
      },
      'one-way': {
        keep: { Work: [stateMessage('h1', undefined, rec('w1')), stateMessage('h2', undefined, rec('w2'))] },
        folderPresence: { INBOX: BOTH, Work: { a: false, b: true } },
      },
      backup: {
        expunges: [{ side: 'b', folder: 'Work', guid: 'w1' }, { side: 'b', folder: 'Work', guid: 'w2' }],
        deleteFolders: [{ side: 'b', folder: 'Work', messages: 2 }],
      },
    },
  },
  {
    rule: 'folder deleted on b, a holds nothing new in it',
    state: state({ INBOX: { messages: [] }, Work: { messages: [agreed('h1', 'w1')] } }),
    a: snapshot({ INBOX: [], Work: [entry('w1')] }),
    b: snapshot({ INBOX: [] }),
    want: {
      sync: { expunges: [{ side: 'a', folder: 'Work', guid: 'w1' }], deleteFolders: [{ side: 'a', folder: 'Work', messages: 1 }] },
      'one-way': { keep: { Work: [stateMessage('h1', rec('w1'), undefined)] }, folderPresence: { INBOX: BOTH, Work: { a: true, b: false } } },
      backup: { createFolders: [{ side: 'b', folder: 'Work' }], transfers: [transfer('a', 'Work', 'w1', '')], folderPresence: { INBOX: BOTH, Work: BOTH } },
    },
  },
  {
    rule: 'folder deleted on b, a got new mail in it',
    state: state({ INBOX: { messages: [] }, Work: { messages: [agreed('h1', 'w1')] } }),
    a: snapshot({ INBOX: [], Work: [entry('w1', { hash: 'h1' }), entry('w2', { hash: 'h2' })] }),
    b: snapshot({ INBOX: [] }),
    want: {
      sync: {
        createFolders: [{ side: 'b', folder: 'Work' }],
        transfers: [transfer('a', 'Work', 'w1', 'h1'), transfer('a', 'Work', 'w2', 'h2')],
        folderPresence: { INBOX: BOTH, Work: BOTH },
      },
      // a's new mail is a's change: it goes over; what b dropped with the folder stays dropped.
      'one-way': {
        createFolders: [{ side: 'b', folder: 'Work' }],
        transfers: [transfer('a', 'Work', 'w2', 'h2')],
        keep: { Work: [stateMessage('h1', rec('w1'), undefined)] },
        folderPresence: { INBOX: BOTH, Work: BOTH },
      },
      backup: {
        createFolders: [{ side: 'b', folder: 'Work' }],
        transfers: [transfer('a', 'Work', 'w1', 'h1'), transfer('a', 'Work', 'w2', 'h2')],
        folderPresence: { INBOX: BOTH, Work: BOTH },
      },
    },
  },
  {
    rule: 'folder deleted on both: forgotten',
    state: state({ INBOX: { messages: [] }, Work: { messages: [agreed('h1', 'w1')] } }),
    a: snapshot({ INBOX: [] }),
    b: snapshot({ INBOX: [] }),
    want: { sync: {}, 'one-way': {}, backup: {} },
  },
  {
    rule: 'INBOX missing on one side is created there, never deleted on the other',
    state: state({ INBOX: { messages: [agreed('h1', 'm1')] } }),
    a: snapshot({ INBOX: [entry('m1', { hash: 'h1' })] }),
    b: snapshot({}),
    want: inEveryMode({
      createFolders: [{ side: 'b', folder: 'INBOX' }],
      transfers: [transfer('a', 'INBOX', 'm1', 'h1')],
    }),
  },
  {
    rule: 'subscriptions merge three-way',
    state: state({ INBOX: { messages: [] } }, ['Both', 'DropA', 'DropB']),
    a: snapshot({ INBOX: [] }, ['Both', 'DropB', 'NewA']),
    b: snapshot({ INBOX: [] }, ['Both', 'DropA', 'NewB']),
    want: {
      sync: { subscriptions: { a: ['Both', 'NewA', 'NewB'], b: ['Both', 'NewA', 'NewB'] }, subscriptionsAfter: ['Both', 'NewA', 'NewB'] },
      // a's changes (DropA gone, NewA added) reach b; b's own (DropB gone, NewB added) stay on b.
      'one-way': { subscriptions: { b: ['Both', 'NewA', 'NewB'] }, subscriptionsAfter: ['Both', 'DropB', 'NewA'] },
      backup: { subscriptions: { b: ['Both', 'DropB', 'NewA'] }, subscriptionsAfter: ['Both', 'DropB', 'NewA'] },
    },
  },
  {
    // The narrowed diff's entries carry a record's hash, '' where it was never learnt: no collision with b's known hash.
    rule: 'both present, known, a record hash never learnt (\'\'): flags merge, nothing copied',
    state: state({ INBOX: { messages: [agreed('', 'm1', { flags: 'S' })] } }),
    a: snapshot({ INBOX: [entry('m1', { flags: 'S', hash: '' })] }),
    b: snapshot({ INBOX: [entry('m1', { flags: 'FS', hash: 'h1' })] }),
    want: {
      sync: { flagChanges: [{ side: 'a', folder: 'INBOX', delta: delta('m1', { addFlags: 'F' }) }], keep: { INBOX: [agreed('h1', 'm1', { flags: 'FS' })] } },
      'one-way': { keep: { INBOX: [stateMessage('h1', rec('m1', { flags: 'S' }), rec('m1', { flags: 'FS' }))] } },
      backup: { flagChanges: [{ side: 'b', folder: 'INBOX', delta: delta('m1', { removeFlags: 'F' }) }], keep: { INBOX: [agreed('h1', 'm1', { flags: 'S' })] } },
    },
  },
  {
    rule: 'a recorded message whose file a skipped: neither held nor expunged there, b\'s copy and the record stay',
    state: state({ INBOX: { messages: [agreed('h1', 'm1')] } }),
    a: skipping(snapshot({ INBOX: [] }), ['m1']),
    b: snapshot({ INBOX: [entry('m1', { hash: 'h1' })] }),
    want: inEveryMode({ keep: { INBOX: [agreed('h1', 'm1')] } }),
  },
  {
    rule: 'a recorded message whose file b skipped: a\'s copy and the record stay',
    state: state({ INBOX: { messages: [agreed('h1', 'm1')] } }),
    a: snapshot({ INBOX: [entry('m1', { hash: 'h1' })] }),
    b: skipping(snapshot({ INBOX: [] }), ['m1']),
    want: inEveryMode({ keep: { INBOX: [agreed('h1', 'm1')] } }),
  },
  {
    rule: 'a name new on b that a skips: left alone on both sides',
    state: state({ INBOX: { messages: [] } }),
    a: skipping(snapshot({ INBOX: [] }), ['m1']),
    b: snapshot({ INBOX: [entry('m1', { hash: 'h1' })] }),
    want: inEveryMode({}),
  },
  {
    rule: 'subscriptions unchanged: nothing written',
    state: state({ INBOX: { messages: [] } }, ['A']),
    a: snapshot({ INBOX: [] }, ['A']),
    b: snapshot({ INBOX: [] }, ['A']),
    want: inEveryMode({ subscriptionsAfter: ['A'] }),
  },
  {
    rule: 'subscriptions at a first meeting: the union',
    a: snapshot({ INBOX: [] }, ['A', 'B']),
    b: snapshot({ INBOX: [] }, ['B', 'C']),
    want: {
      sync: { subscriptions: { a: ['A', 'B', 'C'], b: ['A', 'B', 'C'] }, subscriptionsAfter: ['A', 'B', 'C'] },
      'one-way': { subscriptions: { b: ['A', 'B', 'C'] }, subscriptionsAfter: ['A', 'B'] },
      backup: { subscriptions: { b: ['A', 'B'] }, subscriptionsAfter: ['A', 'B'] },
    },
  },
];

const input = (mode: Mode, row: Row): DiffInput => ({ mode, a: row.a, b: row.b, state: row.state });

describe.each(MODES)('diff, %s', (mode) => {
  for (const row of rows) {
    it(row.rule, () => {
      expect(canonicalPlan(diff(input(mode, row)))).toEqual(canonicalPlan(planOf(mode, row.want[mode])));
    });
  }
});

describe('diff symmetry (sync)', () => {
  for (const row of rows) {
    it(`${row.rule}: diff(b, a) mirrors diff(a, b)`, () => {
      const forward = diff({ mode: 'sync', a: row.a, b: row.b, state: row.state });
      const backward = diff({ mode: 'sync', a: row.b, b: row.a, state: row.state ? mirrorState(row.state) : undefined });
      expect(canonicalPlan(mirrorPlan(backward))).toEqual(canonicalPlan(forward));
    });
  }
});

describe('diff preconditions', () => {
  it('refuses a first meeting of equal sizes when the hashes were not filled in', () => {
    expect(() => diff({ mode: 'sync', a: snapshot({ INBOX: [entry('m1', { size: 10 })] }), b: snapshot({ INBOX: [entry('m1', { size: 10, hash: 'h1' })] }) }))
      .toThrow('internal: no content hash for INBOX/m1 at first meeting');
  });

  it('does not change its input', () => {
    const row = rows.find((r) => r.rule.startsWith('folder renamed')) as Row;
    const before = JSON.stringify([[...row.a.folders], [...row.b.folders], row.state]);
    diff(input('sync', row));
    expect(JSON.stringify([[...row.a.folders], [...row.b.folders], row.state])).toBe(before);
  });
});

type Need = { side: 'a' | 'b'; folder: string; guids: string[] };
const sortNeeds = (needs: Need[]): Need[] => [...needs].map((n) => ({ ...n, guids: [...n.guids].sort() }))
  .sort((x, y) => (`${x.side}${x.folder}` < `${y.side}${y.folder}` ? -1 : 1));

describe('hashNeeds', () => {
  const rowsNeeds: { name: string; input: DiffInput; want: Need[] }[] = [
    {
      name: 'a first meeting of equal sizes: both sides',
      input: { mode: 'sync', a: snapshot({ INBOX: [entry('m1', { size: 10 })] }), b: snapshot({ INBOX: [entry('m1', { size: 10 })] }) },
      want: [{ side: 'a', folder: 'INBOX', guids: ['m1'] }, { side: 'b', folder: 'INBOX', guids: ['m1'] }],
    },
    {
      name: 'a first meeting with sizes unknown: both sides',
      input: { mode: 'sync', a: snapshot({ INBOX: [entry('m1')] }), b: snapshot({ INBOX: [entry('m1', { size: 10 })] }) },
      want: [{ side: 'a', folder: 'INBOX', guids: ['m1'] }, { side: 'b', folder: 'INBOX', guids: ['m1'] }],
    },
    {
      name: 'a first meeting of different sizes: nothing (a collision already)',
      input: { mode: 'sync', a: snapshot({ INBOX: [entry('m1', { size: 10 })] }), b: snapshot({ INBOX: [entry('m1', { size: 11 })] }) },
      want: [],
    },
    {
      name: 'a first meeting where one hash is known: only the other',
      input: { mode: 'sync', a: snapshot({ INBOX: [entry('m1', { hash: 'h1' })] }), b: snapshot({ INBOX: [entry('m1')] }) },
      want: [{ side: 'b', folder: 'INBOX', guids: ['m1'] }],
    },
    {
      name: 'a new message on a side where nothing disappeared: nothing',
      input: {
        mode: 'sync', state: state({ INBOX: { messages: [agreed('h1', 'm1')] } }),
        a: snapshot({ INBOX: [entry('m1'), entry('m2')] }), b: snapshot({ INBOX: [] }),
      },
      want: [],
    },
    {
      name: 'new messages on a side where one disappeared (a possible move): those, in every folder',
      input: {
        mode: 'sync', state: state({ INBOX: { messages: [agreed('h1', 'm1'), agreed('h3', 'm3')] }, Archive: { messages: [] } }),
        a: snapshot({ INBOX: [entry('m3'), entry('m4')], Archive: [entry('m2'), entry('m5', { hash: 'h5' })] }),
        b: snapshot({ INBOX: [entry('m1'), entry('m3'), entry('b9')], Archive: [] }),
      },
      want: [{ side: 'a', folder: 'Archive', guids: ['m2'] }, { side: 'a', folder: 'INBOX', guids: ['m4'] }],
    },
    {
      name: 'a folder gone on a side counts as messages disappeared',
      input: {
        mode: 'sync', state: state({ INBOX: { messages: [] }, Old: { messages: [agreed('h1', 'o1')] } }),
        a: snapshot({ INBOX: [], New: [entry('n1')] }), b: snapshot({ INBOX: [], Old: [entry('o1')] }),
      },
      want: [{ side: 'a', folder: 'New', guids: ['n1'] }],
    },
    {
      name: 'both sides with a move: each side its own new messages',
      input: {
        mode: 'sync', state: state({ INBOX: { messages: [agreed('h1', 'm1'), agreed('h2', 'm2')] }, Archive: { messages: [] } }),
        a: snapshot({ INBOX: [entry('m2')], Archive: [entry('a1')] }), b: snapshot({ INBOX: [entry('m1')], Archive: [entry('b1')] }),
      },
      want: [{ side: 'a', folder: 'Archive', guids: ['a1'] }, { side: 'b', folder: 'Archive', guids: ['b1'] }],
    },
  ];
  for (const { name, input: i, want } of rowsNeeds) {
    it(name, () => {
      expect(sortNeeds(hashNeeds(i))).toEqual(sortNeeds(want));
    });
  }

  it('gives diff what it needs to turn a move into a local copy', () => {
    const s = state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] }, Archive: { messages: [] } });
    const a = snapshot({ INBOX: [], Archive: [entry('m2', { flags: 'S' })] });
    const b = snapshot({ INBOX: [entry('m1', { flags: 'S' })], Archive: [] });
    const i: DiffInput = { mode: 'sync', a, b, state: s };
    expect(hashNeeds(i)).toEqual([{ side: 'a', folder: 'Archive', guids: ['m2'] }]);
    (a.folders.get('Archive')?.messages[0] as { hash?: string }).hash = 'h1';
    const plan = diff(i);
    expect(plan.transfers).toEqual([]);
    expect(plan.copies).toEqual([{
      side: 'b', folder: 'Archive',
      request: { fromFolder: 'INBOX', fromGuid: 'm1', guid: 'm2', flags: 'S', keywords: [], location: 'cur' },
      record: agreed('h1', 'm2', { flags: 'S' }),
    }]);
    expect(plan.expunges).toEqual([{ side: 'b', folder: 'INBOX', guid: 'm1' }]);
  });
});

describe('regressions', () => {
  // The same message moved to the same folder on both sides between two syncs (a laptop and
  // webmail both archive it) shows as a new name on each side. Taken as two new messages, each
  // would be sent over, leaving two identical files in Archive on each side (invariant 2).
  it('moved-to-the-same-folder-on-both-sides: one message, not a duplicate on each side', () => {
    const s = state({ INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' })] }, Archive: { messages: [] } });
    const i: DiffInput = {
      mode: 'sync', state: s,
      a: snapshot({ INBOX: [], Archive: [entry('ma', { flags: 'S', size: 10 })] }),
      b: snapshot({ INBOX: [], Archive: [entry('mb', { flags: 'S', size: 10 })] }),
    };
    expect(sortNeeds(hashNeeds(i))).toEqual([{ side: 'a', folder: 'Archive', guids: ['ma'] }, { side: 'b', folder: 'Archive', guids: ['mb'] }]);
    for (const side of [i.a, i.b]) for (const e of side.folders.get('Archive')?.messages ?? []) e.hash = 'h1';
    const plan = diff(i);
    expect(summarize(plan).transfers).toEqual({ a: 0, b: 0 });
    expect(summarize(plan).copies).toEqual({ a: 0, b: 0 });
    expect(plan.keep.Archive).toEqual([stateMessage('h1', rec('ma', { flags: 'S' }), rec('mb', { flags: 'S' }))]);
  });

  // A run died after b renamed a delivery away from a name taken by other bytes, before the state
  // recorded it: the next run sees a's message and b's copy as new under two names.
  it('new on both sides under two names with one size: hashed, and paired when the bytes agree', () => {
    const s = state({ INBOX: { messages: [agreed('h0', 'm0')] } });
    const i: DiffInput = {
      mode: 'sync', state: s,
      a: snapshot({ INBOX: [entry('m0'), entry('x1', { size: 10 }), entry('x2', { size: 20 })] }),
      b: snapshot({ INBOX: [entry('m0'), entry('y1', { size: 10 }), entry('y3', { size: 30 })] }),
    };
    expect(sortNeeds(hashNeeds(i))).toEqual([{ side: 'a', folder: 'INBOX', guids: ['x1'] }, { side: 'b', folder: 'INBOX', guids: ['y1'] }]);
    for (const side of [i.a, i.b]) for (const e of side.folders.get('INBOX')?.messages ?? []) if (e.size === 10) e.hash = 'h1';
    const plan = diff(i);
    expect(plan.transfers.map((t) => t.sourceGuid).sort()).toEqual(['x2', 'y3']);
    expect(plan.keep.INBOX).toContainEqual(stateMessage('h1', rec('x1'), rec('y1')));
  });

  // A collision gave b's copy of m a fresh name (f); rsync then put m back on b with a's bytes.
  // Left to the records, b's m looked new and a's m's partner gone: a move of m onto itself on b
  // and an expunge of b's m, the replica's only copy (issue 30, item 3).
  it('move-onto-itself-expunges-only-copy: a name both sides hold again with one content is met, nothing expunged', () => {
    const s = state({ INBOX: { messages: [stateMessage('h1', rec('m'), rec('f')), agreed('h2', 'y')] } });
    const i: DiffInput = {
      mode: 'backup', state: s,
      a: snapshot({ INBOX: [entry('m', { hash: 'h1' }), entry('y')] }),
      b: snapshot({ INBOX: [entry('m'), entry('y')] }),
    };
    expect(sortNeeds(hashNeeds(i))).toEqual([{ side: 'b', folder: 'INBOX', guids: ['m'] }]);
    (i.b.folders.get('INBOX')?.messages[0] as { hash?: string }).hash = 'h1';
    for (const mode of MODES) {
      const plan = diff({ ...i, mode });
      expect(isEmptyPlan(plan), mode).toBe(true);
      expect(plan.keep.INBOX).toContainEqual(agreed('h1', 'm'));
    }
  });

  it('move-onto-itself-expunges-only-copy: two records crossing one name, both sides rsync\'d alike: each name met, nothing planned', () => {
    // After a collision in a sync: a's m went to b as f1, b's m (other bytes) to a as f2.
    const s = state({ INBOX: { messages: [stateMessage('h1', rec('m'), rec('f1')), stateMessage('h2', rec('f2'), rec('m'))] } });
    const side = () => snapshot({ INBOX: [entry('m', { hash: 'h1' }), entry('f2', { hash: 'h2' })] });
    const plan = diff({ mode: 'sync', state: s, a: side(), b: side() });
    expect(isEmptyPlan(plan)).toBe(true);
    expect([...(plan.keep.INBOX ?? [])].sort((x, y) => x.hash.localeCompare(y.hash))).toEqual([agreed('h1', 'm'), agreed('h2', 'f2')]);
  });

  it('move-onto-itself-expunges-only-copy: a record whose two files now hold other bytes never looks converged', () => {
    const s = state({ INBOX: { messages: [agreed('h1', 'm')] } });
    const a = snapshot({ INBOX: [entry('m', { hash: 'h1' })] });
    const b = snapshot({ INBOX: [entry('m', { hash: 'h9' })] });
    const sync = diff({ mode: 'sync', state: s, a, b });
    expect(sync.transfers.map((t) => `${t.from}:${t.sourceGuid}`).sort()).toEqual(['a:m', 'b:m']);
    expect(sync.expunges).toEqual([]);
    const backup = diff({ mode: 'backup', state: s, a, b });
    expect(backup.transfers.map((t) => `${t.from}:${t.sourceGuid}`)).toEqual(['a:m']);
    expect(backup.expunges).toEqual([{ side: 'b', folder: 'INBOX', guid: 'm' }]);
  });

  it('move-onto-itself-expunges-only-copy: a transfer is never paired with an expunge of the name it lands on', () => {
    // b's m is known only from an older record whose a half is gone: its hash is the records'.
    const s = state({ INBOX: { messages: [stateMessage('h1', rec('m'), rec('f')), stateMessage('h1', undefined, rec('m'))] } });
    const plan = diff({ mode: 'backup', state: s, a: snapshot({ INBOX: [entry('m')] }), b: snapshot({ INBOX: [entry('m')] }) });
    expect(plan.copies).toEqual([]);
    expect(plan.expunges).toEqual([]);
    expect(plan.transfers.map((t) => t.sourceGuid)).toEqual(['m']);
  });

  // --checksum gives entries their files' mtimes: a replica's changed arrival date is set back.
  it('backup-checksum-repairs-drift: mtimes that differ are set, b to a\'s (backup, one-way) or both to the earlier (sync)', () => {
    const s = state({ INBOX: { messages: [agreed('h1', 'm')] } });
    const a = snapshot({ INBOX: [entry('m', { hash: 'h1' })] });
    const b = snapshot({ INBOX: [entry('m', { hash: 'h1' })] });
    (a.folders.get('INBOX')?.messages[0] as { mtime?: number }).mtime = 2000;
    (b.folders.get('INBOX')?.messages[0] as { mtime?: number }).mtime = 1000;
    for (const mode of ['backup', 'one-way'] as const) {
      expect(diff({ mode, state: s, a, b }).mtimes).toEqual([{ side: 'b', folder: 'INBOX', change: { guid: 'm', mtime: 2000 } }]);
    }
    const sync = diff({ mode: 'sync', state: s, a, b });
    expect(sync.mtimes).toEqual([{ side: 'a', folder: 'INBOX', change: { guid: 'm', mtime: 1000 } }]);
    expect(isEmptyPlan(sync)).toBe(false);
    expect(summarize(sync).mtimes).toEqual({ a: 1, b: 0 });
    expect(diff({ mode: 'sync', state: s, a, b: snapshot({ INBOX: [entry('m', { hash: 'h1' })] }) }).mtimes).toBeUndefined();
  });

  // After b deletes a folder, a one-way run keeps it deleted on b (state: onA, not onB). The next
  // one-way run must not read onB=false as "never had it" and create the folder on b again with
  // every message: a run right after a successful one is a no-op (invariant 5), and b's own change
  // stays on b.
  it('one-way-deleted-folder-comes-back: the run after a one-way run that kept b\'s deletion does nothing', () => {
    const a = snapshot({ INBOX: [], Work: [entry('w1', { hash: 'h1' })] });
    const b = snapshot({ INBOX: [] });
    const first = diff({ mode: 'one-way', a, b, state: state({ INBOX: { messages: [] }, Work: { messages: [agreed('h1', 'w1')] } }) });
    expect(isEmptyPlan(first)).toBe(true);
    expect(first.folderPresence.Work).toEqual({ a: true, b: false });
    const second = diff({ mode: 'one-way', a, b, state: stateAfter(first) });
    expect(second.createFolders).toEqual([]);
    expect(second.transfers).toEqual([]);
    expect(isEmptyPlan(second)).toBe(true);
  });
});
