// Which transfers become links: a file with other names on the sending side, whose bytes the
// receiving side holds (kept records, then the saved state's) or gets from the first of its names.

import { describe, expect, it } from 'vitest';
import type { Agent } from '../../../src/sync/agent.js';
import type { Transfer } from '../../../src/sync/plan.js';
import { StateDamagedError, type Side, type StateMessage } from '../../../src/sync/state.js';
import { Twins } from '../../../src/sync/twins.js';

const hash = (c: string): string => c.repeat(64);

function transfer(folder: string, guid: string, from: Side = 'a'): Transfer {
  const own = { guid, flags: 'S', keywords: [], location: 'cur' as const };
  return { from, folder, sourceGuid: guid, flags: 'S', keywords: [], location: 'cur', record: { hash: '', a: { ...own }, b: { ...own } } };
}

const agents = (a = true, b = true): Record<Side, Agent> => ({ a: { linkedCopies: a } as Agent, b: { linkedCopies: b } as Agent });

const kept = (guid: string, c: string, sides: Side[] = ['a', 'b']): StateMessage => {
  const rec: StateMessage = { hash: hash(c) };
  for (const s of sides) rec[s] = { guid, flags: 'S', keywords: [], location: 'cur' };
  return rec;
};

describe('Twins', () => {
  it('links a copy to a kept message with its bytes on the receiving side, with its hash and mtime', () => {
    const twins = new Twins(agents(), { INBOX: [kept('old1', 'x')] }, []);
    expect(twins.found(transfer('Archive', 'c1'), { inode: '1:5', mtime: 1000, hash: hash('x') })).toBe(true);
    expect(twins.links).toHaveLength(1);
    expect(twins.links[0]).toMatchObject({ side: 'b', folder: 'Archive', request: { fromFolder: 'INBOX', fromGuid: 'old1', guid: 'c1', mtime: 1000, hash: hash('x') } });
  });

  it('sends the first of one file\'s names and links the others to it', () => {
    const twins = new Twins(agents(), {}, []);
    const twin = { inode: '1:7', mtime: 5, hash: hash('y') };
    const first = transfer('INBOX', 'm1');
    expect(twins.found(first, twin)).toBe(false);
    expect(twins.found(transfer('Archive', 'm2'), twin)).toBe(true);
    expect(twins.found(transfer('Sent', 'm3'), twin)).toBe(true);
    expect(twins.links.map((l) => [l.folder, l.request.fromFolder, l.request.fromGuid, l.after])).toEqual([
      ['Archive', 'INBOX', 'm1', first], ['Sent', 'INBOX', 'm1', first],
    ]);
  });

  it('reads the saved state folder by folder only while a hash is not found, and skips a damaged folder', () => {
    const read: string[] = [];
    const saved: [string, () => StateMessage[]][] = [
      ['Broken', () => { read.push('Broken'); throw new StateDamagedError('damaged'); }],
      ['Old', () => { read.push('Old'); return [kept('o2', 'q', ['a'])]; }],
      ['Never', () => { read.push('Never'); return []; }],
    ];
    const twins = new Twins(agents(), { INBOX: [kept('i1', 'p')] }, saved);
    expect(twins.found(transfer('Archive', 'c1', 'b'), { inode: '2:1', mtime: 1, hash: hash('p') })).toBe(true);
    expect(read).toEqual([]);
    expect(twins.found(transfer('Archive', 'c2', 'b'), { inode: '2:2', mtime: 1, hash: hash('q') })).toBe(true);
    expect(twins.links.map((l) => [l.side, l.request.fromFolder, l.request.fromGuid])).toEqual([['a', 'INBOX', 'i1'], ['a', 'Old', 'o2']]);
    expect(read).toEqual(['Broken', 'Old']);
  });

  it('looks at transfers only where both sides link copies (an Agent that does not is sent copies as any message)', () => {
    expect(new Twins(agents(), {}, []).from('a')).toBe(true);
    expect(new Twins(agents(true, false), {}, []).from('a')).toBe(false);
    expect(new Twins(agents(false, true), {}, []).from('b')).toBe(false);
  });
});
