// The saved state: a checksummed header and per-folder records read on demand, round trip, and
// "corrupt" (never trusted) for anything damaged.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestEntries } from '../../../src/digest.js';
import { isConverged, parseState, patchFolder, readRecords, recordKey, recordsFor, sealedFolder, serializeState, sideCount, sideDigest, sideEntries, STATE_VERSION, type StateFolder, type SyncState } from '../../../src/sync/state.js';
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
    // Written again, every folder's records are copied as they were read (none re-encoded), each
    // line read once.
    const again = serializeState(loaded.state);
    expect(reads).toHaveLength(2);
    expect(again.equals(file)).toBe(true);
  });

  it('gives a sealed folder the digests of its sides\' entries, records that differ on the sides included', () => {
    const messages = [
      stateMessage('h1', rec('m1', { flags: 'FS', keywords: ['$Label1', 'Junk'] }), rec('m1', { flags: 'FS', keywords: ['$Label1', 'Junk'] }), ',M=7'),
      stateMessage('h2', rec('m2', { keywords: ['a'] }), rec('m2', { keywords: ['b'] })),
      stateMessage('h3', rec('m3', { location: 'new' }), rec('m3')),
      stateMessage('h4', rec('m4', { flags: 'S' }), rec('m4', { flags: 'RS' }), ',X'),
      stateMessage('h5', rec('only-a'), undefined),
      stateMessage('h6', undefined, rec('only-b', { flags: 'T' }), ',Z=1'),
      stateMessage('h7', rec('a7'), rec('b7')),
    ];
    const sealed = sealedFolder({ onA: true, onB: true }, messages);
    const built: StateFolder = { onA: true, onB: true, messages };
    for (const side of ['a', 'b'] as const) {
      expect(sideDigest(sealed, side)).toBe(digestEntries(sideEntries(built, side)));
      expect(sideDigest(sealed, side)).not.toBe(digestEntries([]));
    }
    expect(sideDigest(sealed, 'a')).not.toBe(sideDigest(sealed, 'b'));
    // The same records on both sides: the same digest on both.
    const same = sealedFolder({ onA: true, onB: true }, [messages[0] as (typeof messages)[number]]);
    expect(sideDigest(same, 'a')).toBe(sideDigest(same, 'b'));
  });

  it('writes a folder sealed early as the same folder built at the end, a checkpoint included', () => {
    const s = sample();
    const sealed: SyncState = { ...s, folders: Object.fromEntries(Object.entries(s.folders).map(([name, sf]) => [name, sealedFolder(sf, sf.messages)])) };
    expect(serializeState(sealed).equals(serializeState(s))).toBe(true);
    const loaded = parseState(serializeState(sealed));
    expect(loaded).toEqual({ kind: 'ok', state: s });
    // A checkpoint writes empty digests for folders still filling; a sealed one's records are final.
    const header = (file: Buffer): { folders: { name: string; digestA: string; digestB: string }[] } => (JSON.parse(file.toString().split('\n')[0] as string) as { state: never }).state;
    const checkpoint = header(serializeState({ ...sealed, provisional: true })).folders.find((f) => f.name === 'INBOX');
    expect(checkpoint?.digestA).toBe(digestEntries(sideEntries(s.folders.INBOX!, 'a')));
    expect(checkpoint?.digestB).toBe(digestEntries(sideEntries(s.folders.INBOX!, 'b')));
    expect(header(serializeState({ ...s, provisional: true })).folders.find((f) => f.name === 'INBOX')?.digestA).toBe('');
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

describe('recordsFor: a few records cut out of a folder read from the file', () => {
  const tricky = (): SyncState => state({
    INBOX: {
      messages: [
        ...Array.from({ length: 40 }, (_, i) => agreed(`h${i}`, `m${i}`, { flags: 'S' })),
        // A keyword named like another message's key: its text is met where no key stands.
        agreed('h40', 'm40', { keywords: ['m7', '["m8",'] }),
        // Info rest and a GUID with quotes, backslashes and non-ASCII characters.
        stateMessage('h41', rec('q"\\ü台', { flags: 'RS' }), rec('q"\\ü台', { flags: 'RS' }), ',X="a",\\'),
        // On b only: its key is b's name.
        stateMessage('h42', undefined, rec('onlyB', { location: 'new' })),
        stateMessage('h43', rec('m43'), rec('other43'), ',M=1'),
      ],
    },
  });
  const through = (file: Buffer): { state: SyncState; reads: number[] } => {
    const reads: number[] = [];
    const loaded = parseState(file.subarray(0, file.indexOf(0x0a)), { size: file.length, read: (at, n) => { reads.push(at); return file.subarray(at, at + n); } });
    if (loaded.kind !== 'ok') throw new Error(loaded.why);
    return { state: loaded.state, reads };
  };
  const keys = ['m3', 'm8', 'm40', 'q"\\ü台', 'onlyB', 'm43', 'absent'];
  const expected = (s: SyncState): unknown => s.folders.INBOX!.messages.filter((m) => keys.includes(recordKey(m)));

  /** The file with one folder's first line replaced, header sizes and checksums made to match. */
  const withLine = (file: Buffer, folder: number, body: string): Buffer => {
    const lines = file.toString().split('\n');
    const outer = JSON.parse(lines[0]!) as { state: { folders: { bytes: number; sha256: string }[] } };
    const f = outer.state.folders[folder]!;
    f.bytes = Buffer.byteLength(body);
    f.sha256 = sha(body);
    lines[folder + 1] = body;
    const text = JSON.stringify(outer.state);
    return Buffer.from([`{"sha256":"${sha(text)}","state":${text}}`, ...lines.slice(1)].join('\n'));
  };

  it('finds exactly the records of the keys asked for, as a whole read would', () => {
    const file = serializeState(tricky());
    const { state: loaded, reads } = through(file);
    const got = recordsFor(loaded.folders.INBOX!, new Set(keys));
    expect(reads).toHaveLength(1);
    expect(got).toEqual(expected(tricky()));
    expect(got.map(recordKey)).toEqual(['m3', 'm8', 'm40', 'q"\\ü台', 'onlyB', 'm43']);
    expect(recordsFor(loaded.folders.INBOX!, new Set())).toEqual([]);
  });

  it('parses none of the other records: one that is not a record shows only when asked for or read whole', () => {
    const file = serializeState(tricky());
    // Its key still reads where keys stand; the rest of it is not JSON.
    const body = file.toString().split('\n')[1]!.replace('["m20","S",[]', '["m20","S",[,]');
    expect(body).not.toBe(file.toString().split('\n')[1]);
    const bad = withLine(file, 0, body);
    const { state: loaded } = through(bad);
    expect(readRecords(loaded, ['INBOX'], () => true)).toBeUndefined();
    expect(recordsFor(loaded.folders.INBOX!, new Set(['m3', 'm21']))).toEqual(tricky().folders.INBOX!.messages.filter((m) => ['m3', 'm21'].includes(recordKey(m))));
    expect(() => recordsFor(loaded.folders.INBOX!, new Set(['m20']))).toThrow('the records of folder "INBOX" are not JSON');
    expect(readRecords(loaded, ['INBOX'])).toBe('the records of folder "INBOX" are not JSON');
    // A checksum that fails is found by the check alone.
    const { state: edited } = through(Buffer.from(file.toString().replace('"m21"', '"m2x"')));
    expect(readRecords(edited, ['INBOX'], () => true)).toBe('the records of folder "INBOX" fail their checksum');
    expect(() => recordsFor(edited.folders.INBOX!, new Set(['m3']))).toThrow('fail their checksum');
  });

  it('follows the patch lines after the first: records dropped, and added again', () => {
    const first = through(serializeState(tricky())).state;
    const base = first.folders.INBOX!;
    const dropped = recordsFor(base, new Set(['m3', 'm8']));
    const added = [agreed('h3b', 'm3', { flags: 'FS' }), agreed('h90', 'm90')];
    const patched = { ...first, folders: { INBOX: patchFolder(base, dropped, added, { onA: true, onB: true }) } };
    // In this run, and read back from the file with its patch line.
    const ask = new Set(['m3', 'm8', 'm90', 'm5']);
    const whole = [...tricky().folders.INBOX!.messages.filter((m) => !['m3', 'm8'].includes(recordKey(m))), ...added].filter((m) => ask.has(recordKey(m)));
    expect(recordsFor(patched.folders.INBOX!, ask)).toEqual(whole);
    const file = serializeState(patched);
    expect(file.toString().split('\n')).toHaveLength(3);
    expect(recordsFor(through(file).state.folders.INBOX!, ask)).toEqual(whole);
  });

  it('reads a folder written before records were tab-separated whole, with the same answer', () => {
    const file = serializeState(tricky());
    const old = withLine(file, 0, file.toString().split('\n')[1]!.replaceAll(',\t', ','));
    const { state: loaded } = through(old);
    expect(recordsFor(loaded.folders.INBOX!, new Set(keys))).toEqual(expected(tricky()));
    expect(loaded.folders.INBOX!.messages).toEqual(tricky().folders.INBOX!.messages);
  });
});
