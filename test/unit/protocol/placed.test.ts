// Answers to `place`: packed by the serving side, checked and unpacked by the asking side.

import { PassThrough } from 'node:stream';
import { encode, decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../../src/protocol/connection.js';
import { MdsyncError } from '../../../src/errors.js';
import type { Placed } from '../../../src/model.js';
import { METHODS, type Result } from '../../../src/protocol/messages.js';
import { packPlaced, placedFromWire } from '../../../src/protocol/placed.js';
import { VALID_FRAMES } from '../../helpers/fuzz.js';

const hash = (n: number): string => n.toString(16).padStart(2, '0').repeat(32);
const wanted = ['1600000001.M1P1.host', '1600000002.M2P1.host', '1600000003.M3P1.host', '1600000004.M4P1.host'];
const outcomes: Placed[] = [
  { wanted: wanted[0] as string, guid: wanted[0] as string, hash: hash(1), existed: false },
  { wanted: wanted[1] as string, guid: wanted[1] as string, hash: hash(2), existed: true },
  // Its name held other bytes: placed under a fresh one.
  { wanted: wanted[2] as string, guid: '1600000099.M99P1.other', hash: hash(3), existed: false },
  { wanted: wanted[3] as string, guid: wanted[3] as string, hash: hash(254), existed: false, dropped: ['$Label27'] },
];

/** As the asking side gets it: through msgpack and the answer's field checks. */
function overTheWire(answer: Result<'deliver'>): Result<'deliver'> {
  return METHODS.deliver.result(decode(encode(answer)), 'answer to deliver');
}

const unpack = (answer: unknown): Placed[] => placedFromWire(overTheWire(answer as Result<'deliver'>), wanted, 'far', 'INBOX');

describe('deliver answers', () => {
  it('carry every outcome, in 33 bytes a message plus the exceptions', () => {
    const packed = packPlaced(outcomes);
    expect(packed.hashes).toHaveLength(4 * 32);
    expect(packed.existed).toHaveLength(4);
    expect(packed.others).toEqual([{ at: 2, guid: '1600000099.M99P1.other' }, { at: 3, dropped: ['$Label27'] }]);
    expect(unpack(packed)).toEqual(outcomes);
    expect(encode(packed).length).toBeLessThan(encode(outcomes).length / 2);
  });

  it('pack nothing for an empty batch', () => {
    expect(placedFromWire(overTheWire(packPlaced([])), [], 'far', 'INBOX')).toEqual([]);
  });

  it('refuse to pack a hash that is not a SHA-256 in hex', () => {
    expect(() => packPlaced([{ ...outcomes[0] as Placed, hash: 'AB'.repeat(32) }])).toThrow(/not a SHA-256 in hex/);
  });

  const packed = (): Result<'deliver'> => packPlaced(outcomes);
  it.each([
    ['a hash short', { ...packed(), hashes: packed().hashes.subarray(1) }, /answer to deliver\.hashes \(folder "INBOX"\): 127 bytes for 4 messages \(32 each\)/],
    ['a flag too many', { ...packed(), existed: new Uint8Array(5) }, /answer to deliver\.existed \(folder "INBOX"\): 5 bytes for 4 messages/],
    ['an existed byte of 2', { ...packed(), existed: Uint8Array.of(0, 2, 0, 0) }, /answer to deliver\.existed\[1\] \(folder "INBOX"\): expected 0 or 1, got 2/],
    ['an exception past the batch', { ...packed(), others: [{ at: 4 }] }, /answer to deliver\.others\[0\]\.at \(folder "INBOX"\): message 4 of 4/],
    ['a message named twice', { ...packed(), others: [{ at: 1, guid: 'x' }, { at: 1, guid: 'y' }] }, /answer to deliver\.others\[1\]\.at \(folder "INBOX"\): message 1 named twice/],
  ])('refuse %s, naming the field', (_what, answer, text) => {
    let err: unknown;
    try {
      unpack(answer);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MdsyncError);
    expect((err as MdsyncError).code).toBe('PROTOCOL');
    expect((err as Error).message).toMatch(/^far: protocol error: /);
    expect((err as Error).message).toMatch(text);
  });

  it.each([
    ['a GUID with "/"', { ...packed(), others: [{ at: 0, guid: '../x' }] }, /answer to deliver\.others\[0\]\.guid: GUID "\.\.\/x" contains "\/"/],
    ['hashes as text', { ...packed(), hashes: hash(1) }, /answer to deliver\.hashes: expected bytes/],
    ['a negative place', { ...packed(), others: [{ at: -1 }] }, /answer to deliver\.others\[0\]\.at: expected a whole number/],
    ['no exceptions list', { hashes: packed().hashes, existed: packed().existed }, /answer to deliver: missing field "others"/],
  ])('refuse %s in the answer\'s fields', (_what, answer, text) => {
    expect(() => unpack(answer)).toThrow(text);
  });

  it('go on the wire as they are, where answers of names go deflated', async () => {
    // 600 messages: past the size from which a frame is offered to deflate.
    const many = Array.from({ length: 600 }, (_, i) => ({ ...outcomes[i % 2] as Placed, hash: hash(i % 256) }));
    const requests = new PassThrough();
    const answers = new PassThrough();
    const serving = new Connection(requests, answers, {
      label: 'client',
      handle: async (method) => (method === 'deliver' ? packPlaced(many) : many.map((p) => p.hash)),
    });
    serving.deflateFrames(false);
    const asking = new Connection(answers, requests, { label: 'far' });
    // Each answer's frame header, as the asking side receives it: the top bit says deflated.
    const headers: number[] = [];
    answers.on('data', (chunk: Buffer) => { if (chunk.length >= 4) headers.push(chunk.readUInt32BE(0)); });
    const place = await asking.request('deliver', VALID_FRAMES.deliver.args as never);
    const hashes = await asking.request('hash', VALID_FRAMES.hash.args as never);
    expect(placedFromWire(place, many.map((p) => p.wanted), 'far', 'INBOX').map((p) => p.hash)).toEqual(many.map((p) => p.hash));
    expect(hashes).toEqual(many.map((p) => p.hash));
    expect(headers.map((h) => (h & 0x80000000) !== 0)).toEqual([false, true]);
    await Promise.all([asking.bye(), serving.done]);
  });
});
