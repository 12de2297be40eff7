// Frames: length-prefixed msgpack, cut correctly at any byte boundary, refused above the limit.

import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../../src/protocol/frame.js';
import { MAX_FRAME } from '../../../src/protocol/limits.js';

describe('frames', () => {
  const values = [[0, 1, 'hello', { protocol: 1 }], [1, 7, null], 'text', { bytes: Buffer.from([0, 1, 255]) }, []];

  it('round-trip one value per frame', () => {
    const decoder = new FrameDecoder();
    for (const v of values) expect(decoder.push(encodeFrame(v))).toEqual([v]);
    expect(decoder.pending).toBe(0);
  });

  it('decode the same values whatever the chunking (byte by byte, all at once)', () => {
    const stream = Buffer.concat(values.map((v) => encodeFrame(v)));
    for (const size of [1, 2, 3, 5, 17, stream.length]) {
      const decoder = new FrameDecoder();
      const out: unknown[] = [];
      for (let at = 0; at < stream.length; at += size) out.push(...decoder.push(stream.subarray(at, at + size)));
      expect(out).toEqual(values);
      expect(decoder.pending).toBe(0);
    }
  });

  it('keep a truncated frame as pending bytes', () => {
    const frame = encodeFrame({ a: 'x'.repeat(100) });
    const decoder = new FrameDecoder();
    expect(decoder.push(frame.subarray(0, 50))).toEqual([]);
    expect(decoder.pending).toBe(50);
  });

  it('refuse a 4 GiB length from the header alone', () => {
    const decoder = new FrameDecoder();
    const head = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    expect(() => decoder.push(head)).toThrow(/frame of 4294967295 bytes announced \(limit 16777216\)/);
  });

  it('accept a frame of exactly the limit and refuse one byte more', () => {
    const decoder = new FrameDecoder(100);
    const ok = Buffer.alloc(104);
    ok.writeUInt32BE(100, 0);
    ok.set(encode(new Uint8Array(100 - 2)), 4);
    expect(decoder.push(ok)).toHaveLength(1);
    const big = Buffer.alloc(4);
    big.writeUInt32BE(101, 0);
    expect(() => new FrameDecoder(100).push(big)).toThrow(/101 bytes announced/);
  });

  it('refuse to send a frame over the limit', () => {
    expect(() => encodeFrame(new Uint8Array(MAX_FRAME))).toThrow(/refusing to send a frame/);
  });

  it('report bytes that are not msgpack', () => {
    const bad = Buffer.from([0, 0, 0, 1, 0xc1]);
    expect(() => new FrameDecoder().push(bad)).toThrow(/undecodable frame/);
  });
});
