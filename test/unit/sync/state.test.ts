// The saved state: checksummed JSON, round trip, and "corrupt" (never trusted) for anything damaged.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestEntries } from '../../../src/digest.js';
import { parseState, serializeState, sideDigest, sideEntries, STATE_VERSION, type SyncState } from '../../../src/sync/state.js';
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

  it('writes the checksum of the state body', () => {
    const s = sample();
    const outer = JSON.parse(serializeState(s)) as { sha256: string; state: SyncState };
    expect(outer.sha256).toBe(sha(JSON.stringify(s)));
    expect(outer.state).toEqual(s);
  });

  const text = serializeState(sample());
  const outer = JSON.parse(text) as { sha256: string; state: SyncState };
  const corrupt: { name: string; text: string; why: string }[] = [
    { name: 'empty file', text: '', why: 'not JSON' },
    { name: 'truncated', text: text.slice(0, text.length - 10), why: 'not JSON' },
    { name: 'a flipped checksum character', text: text.replace(outer.sha256, (outer.sha256[0] === '0' ? '1' : '0') + outer.sha256.slice(1)), why: 'checksum mismatch' },
    { name: 'an edited body', text: text.replace('"flags":"S"', '"flags":"FS"'), why: 'checksum mismatch' },
    { name: 'no checksum', text: JSON.stringify({ state: outer.state }), why: 'missing fields' },
    { name: 'no state', text: JSON.stringify({ sha256: outer.sha256 }), why: 'missing fields' },
    { name: 'a JSON number', text: '42', why: 'missing fields' },
    {
      name: 'another version, correctly checksummed',
      text: (() => {
        const body = JSON.stringify({ ...outer.state, version: STATE_VERSION + 1 });
        return JSON.stringify({ sha256: sha(body), state: JSON.parse(body) as unknown });
      })(),
      why: `version ${STATE_VERSION + 1}`,
    },
  ];
  it.each(corrupt)('calls $name corrupt ($why)', ({ text: t, why }) => {
    expect(parseState(t)).toEqual({ kind: 'corrupt', why });
  });

  // JSON.parse('null') succeeds: reading `.state` of it must not throw, or a state file holding
  // "null" would stop every run instead of falling back to a first meeting.
  it('calls a file holding JSON null corrupt rather than throwing', () => {
    expect(parseState('null')).toEqual({ kind: 'corrupt', why: 'missing fields' });
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
