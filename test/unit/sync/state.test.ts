// The saved state: a checksummed header and per-folder records read on demand, round trip, and
// "corrupt" (never trusted) for anything damaged.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestEntries } from '../../../src/digest.js';
import { isConverged, parseState, patchFolder, readRecords, serializeState, sideCount, sideDigest, sideEntries, STATE_VERSION, type StateFolder, type SyncState } from '../../../src/sync/state.js';
import { agreed, rec, state, stateMessage } from '../../helpers/manifest.js';

const sample = (): SyncState => state({
  INBOX: { messages: [agreed('h1', 'm1', { flags: 'S' }), stateMessage('h2', rec('m2', { keywords: ['$Label1'], location: 'new' }), rec('x9', { location: 'new' }), ',M=1')] },
  'Entwürfe/台北': { onA: true, onB: false, messages: [stateMessage('h3', rec('d1'), undefined)] },
}, ['Entwürfe/台北', 'INBOX']);

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('serializeState / parseState', () => {
  it('round-trips', () => {
    const s = sample();
    expect(parseState(serializeState(s))).toEqual({ kind: 'ok', state: s });
  });

  it('round-trips an empty state', () => {
    const s = state({});
    expect(parseState(serializeState(s))).toEqual({ kind: 'ok', state: s });
  });

  it('round-trips through a reader that reads only what is asked for', () => {
    const file = serializeState(sample());
    const reads: [number, number][] = [];
    const head = file.subarray(0, file.indexOf(0x0a) + 1);
    const loaded = parseState(head, { size: file.length, read: (at, n) => { reads.push([at, n]); return file.subarray(at, at + n); } });
    expect(loaded.kind).toBe('ok');
    if (loaded.kind !== 'ok') return;
    expect(reads).toEqual([]);
    expect(loaded.state.folders.INBOX?.messages).toEqual(sample().folders.INBOX?.messages);
    expect(reads).toHaveLength(1);
    // Written again, every folder's records are copied as they were read (none re-encoded).
    const again = serializeState(loaded.state);
    expect(reads).toHaveLength(3);
    expect(again.equals(file)).toBe(true);
  });

  it('keeps the saved digests and counts of a folder it has not read', () => {
    const file = serializeState(sample());
    const loaded = parseState(file.subarray(0, file.indexOf(0x0a)), { size: file.length, read: () => { throw new Error('read'); } });
    if (loaded.kind !== 'ok') throw new Error(loaded.kind);
    const sf = loaded.state.folders.INBOX!;
    expect(sideDigest(sf, 'a')).toBe(sideDigest(sample().folders.INBOX!, 'a'));
    expect(sideCount(sf, 'b')).toBe(2);
    expect(isConverged(sf)).toBe(false);
  });

  it('checksums the header line and every folder\'s records', () => {
    const file = serializeState(sample()).toString();
    const [first, ...bodies] = file.split('\n');
    const outer = JSON.parse(first!) as { sha256: string; state: unknown };
    expect(outer.sha256).toBe(sha(JSON.stringify(outer.state)));
    const header = outer.state as { folders: { bytes: number; sha256: string }[] };
    header.folders.forEach((f, i) => {
      expect(f.sha256).toBe(sha(bodies[i]!));
      expect(f.bytes).toBe(Buffer.byteLength(bodies[i]!));
    });
  });

  it('tells converged folders (every message on both sides, alike) from the rest', () => {
    const s = state({
      Same: { messages: [agreed('h1', 'm1', { flags: 'S' }), agreed('h2', 'm2')] },
      Flags: { messages: [stateMessage('h1', rec('m1', { flags: 'S' }), rec('m1'))] },
      Gap: { messages: [stateMessage('h1', rec('m1'), undefined)] },
      OneSide: { onB: false, messages: [] },
    });
    const loaded = parseState(serializeState(s));
    if (loaded.kind !== 'ok') throw new Error(loaded.kind);
    const of = (n: string): boolean => isConverged(loaded.state.folders[n]!);
    expect([of('Same'), of('Flags'), of('Gap'), of('OneSide')]).toEqual([true, false, false, false]);
  });

  const text = serializeState(sample()).toString();
  const [firstLine] = text.split('\n');
  const outer = JSON.parse(firstLine!) as { sha256: string; state: { version: number } };
  const corrupt: { name: string; text: string; why: string }[] = [
    { name: 'empty file', text: '', why: 'not JSON' },
    { name: 'truncated in the header', text: text.slice(0, 80), why: 'not JSON' },
    { name: 'truncated in the records', text: text.slice(0, text.length - 10), why: 'truncated' },
    { name: 'with bytes after the records', text: `${text}\n[]`, why: 'trailing bytes' },
    { name: 'a flipped checksum character', text: text.replace(outer.sha256, (outer.sha256[0] === '0' ? '1' : '0') + outer.sha256.slice(1)), why: 'checksum mismatch' },
    { name: 'an edited header', text: text.replace('"onA":true', '"onA":false'), why: 'checksum mismatch' },
    { name: 'edited records', text: text.replace('"S"', '"F"'), why: 'the records of folder "INBOX" fail their checksum' },
    { name: 'no checksum', text: JSON.stringify({ state: outer.state }), why: 'missing fields' },
    { name: 'no state', text: JSON.stringify({ sha256: outer.sha256 }), why: 'missing fields' },
    { name: 'a JSON number', text: '42', why: 'missing fields' },
    { name: 'the previous format', text: '{"sha256":"' + sha('{"version":1}') + '","state":{"version":1}}', why: 'version 1' },
    {
      name: 'another version, correctly checksummed',
      text: (() => {
        const body = JSON.stringify({ ...outer.state, version: STATE_VERSION + 1 });
        return `{"sha256":"${sha(body)}","state":${body}}`;
      })(),
      why: `version ${STATE_VERSION + 1}`,
    },
  ];
  it.each(corrupt)('calls $name corrupt ($why)', ({ text: t, why }) => {
    expect(parseState(t)).toEqual({ kind: 'corrupt', why });
  });

  it('reports damaged records met through a reader when they are first read', () => {
    const file = Buffer.from(text.replace('"S"', '"F"'));
    const loaded = parseState(file.subarray(0, file.indexOf(0x0a)), { size: file.length, read: (at, n) => file.subarray(at, at + n) });
    if (loaded.kind !== 'ok') throw new Error(loaded.kind);
    expect(readRecords(loaded.state, ['Entwürfe/台北'])).toBeUndefined();
    expect(readRecords(loaded.state, ['INBOX'])).toBe('the records of folder "INBOX" fail their checksum');
  });

  // JSON.parse('null') succeeds: reading `.state` of it must not throw, or a state file holding
  // "null" would stop every run instead of falling back to a first meeting.
  it('calls a file holding JSON null corrupt rather than throwing', () => {
    expect(parseState('null')).toEqual({ kind: 'corrupt', why: 'missing fields' });
  });
});

describe('patched folders', () => {
  const big = (): SyncState => state({ INBOX: { messages: Array.from({ length: 50 }, (_, i) => agreed(`h${i}`, `m${i}`, { flags: 'S' })) } });
  const load = (file: Buffer): SyncState => {
    const loaded = parseState(file);
    if (loaded.kind !== 'ok') throw new Error(loaded.why);
    return loaded.state;
  };
  const patched = (s: SyncState, drop: number[], add: number[]): SyncState => {
    const base = s.folders.INBOX as StateFolder;
    const dropped = base.messages.filter((m) => drop.includes(Number(m.a?.guid.slice(1))));
    const added = add.map((i) => agreed(`h${i}`, `m${i}`, { flags: 'FS' }));
    const after = [...base.messages.filter((m) => !dropped.includes(m)), ...added];
    const digests = { digestA: digestEntries(sideEntries({ onA: true, onB: true, messages: after }, 'a')), digestB: digestEntries(sideEntries({ onA: true, onB: true, messages: after }, 'b')), converged: true };
    return { ...s, folders: { INBOX: patchFolder(base, dropped, added, { onA: true, onB: true }, digests) } };
  };

  it('are written as the lines they were read from plus one patch line, and read back as the whole', () => {
    const first = load(serializeState(big()));
    const second = patched(first, [3, 4], [3, 60]);
    const file = serializeState(second);
    const lines = file.toString().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]!)).toMatchObject({ drop: ['m3', 'm4'] });
    const third = load(file);
    const inbox = third.folders.INBOX as StateFolder;
    expect(inbox.messages.map((m) => `${m.a?.guid}:${m.a?.flags}`).sort()).toEqual(second.folders.INBOX!.messages.map((m) => `${m.a?.guid}:${m.a?.flags}`).sort());
    expect(inbox.messages).toHaveLength(50 - 2 + 2);
    expect(sideCount(inbox, 'a')).toBe(50);
    expect(sideDigest(inbox, 'a')).toBe(digestEntries(sideEntries({ onA: true, onB: true, messages: [...inbox.messages] }, 'a')));
    expect(isConverged(inbox)).toBe(true);
    // A further patch chains after the first; the header names each line's size and checksum.
    const fourth = load(serializeState(patched(third, [60], [])));
    expect(fourth.folders.INBOX!.messages.map((m) => m.a?.guid)).not.toContain('m60');
    expect(sideCount(fourth.folders.INBOX!, 'b')).toBe(49);
  });

  it('are written whole again when the patches grow past half the records they patch', () => {
    const first = load(serializeState(big()));
    const many = Array.from({ length: 30 }, (_, i) => i);
    const file = serializeState(patched(first, many, many));
    expect(file.toString().split('\n')).toHaveLength(2);
    expect(load(file).folders.INBOX!.messages.filter((m) => m.a?.flags === 'FS')).toHaveLength(30);
  });

  it('a damaged patch line makes the records damaged, read through a reader or whole', () => {
    const file = serializeState(patched(load(serializeState(big())), [1], [1]));
    const bad = Buffer.from(file.toString().replace('"drop":["m1"]', '"drop":["m2"]'));
    expect(parseState(bad)).toEqual({ kind: 'corrupt', why: 'the records of folder "INBOX" fail their checksum' });
    const loaded = parseState(bad.subarray(0, bad.indexOf(0x0a)), { size: bad.length, read: (at, n) => bad.subarray(at, at + n) });
    if (loaded.kind !== 'ok') throw new Error(loaded.kind);
    expect(readRecords(loaded.state, ['INBOX'])).toBe('the records of folder "INBOX" fail their checksum');
  });
});

describe('sideEntries / sideDigest', () => {
  it('gives each side its own records, with the shared hash and info rest', () => {
    const sf = sample().folders.INBOX!;
    expect(sideEntries(sf, 'b')).toEqual([
      { guid: 'm1', flags: 'S', keywords: [], location: 'cur', hash: 'h1' },
      { guid: 'x9', flags: '', keywords: [], location: 'new', hash: 'h2', infoRest: ',M=1' },
    ]);
  });

  it('matches the digest the side computes over the same entries', () => {
    const sf = sample().folders.INBOX!;
    expect(sideDigest(sf, 'a')).toBe(digestEntries([
      { guid: 'm2', flags: '', keywords: ['$Label1'], location: 'new', infoRest: ',M=1' },
      { guid: 'm1', flags: 'S', keywords: [], location: 'cur' },
    ]));
    expect(sideDigest(sf, 'a')).not.toBe(sideDigest(sf, 'b'));
  });

  it('leaves out the side that does not hold a message', () => {
    expect(sideEntries(sample().folders['Entwürfe/台北']!, 'b')).toEqual([]);
  });
});
