// Frames: length-prefixed msgpack, cut correctly at any byte boundary, refused above the limit.

import { deflateRawSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame, textBeforeFrames } from '../../../src/protocol/frame.js';
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

  it('refuse a 2 GiB length from the header alone, deflated or not', () => {
    const plain = Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]);
    expect(() => new FrameDecoder().push(plain)).toThrow(/frame of 2147483647 bytes announced \(limit 16777216\)/);
    const deflated = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    expect(() => new FrameDecoder().push(deflated)).toThrow(/frame of 2147483647 bytes announced \(limit 16777216\)/);
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

  it('deflate a frame when asked and it shrinks, and read it back the same', () => {
    const names = Array.from({ length: 400 }, (_, i) => `1577836800.M${i}P1234Q${i}.mail.example.org,S=5321`);
    const value = [0, 9, 'expunge', { folder: 'INBOX', guids: names }];
    const plain = encodeFrame(value);
    const deflated = encodeFrame(value, 6);
    expect(deflated.length).toBeLessThan(plain.length / 2);
    expect(deflated.readUInt32BE(0) & 0x80000000).not.toBe(0);
    expect(new FrameDecoder().push(Buffer.concat([deflated, plain]))).toEqual([value, value]);
    // Small frames go as they are.
    expect(encodeFrame([1, 2, null], 6)).toEqual(encodeFrame([1, 2, null]));
  });

  it('refuse a deflated frame that inflates past the limit, or is not DEFLATE at all', () => {
    const bomb = deflateRawSync(encode(new Uint8Array(1000)));
    const frame = Buffer.concat([Buffer.alloc(4), bomb]);
    frame.writeUInt32BE((bomb.length | 0x80000000) >>> 0, 0);
    expect(() => new FrameDecoder(500).push(frame)).toThrow(/a deflated frame does not inflate within 500 bytes/);
    expect(new FrameDecoder(2000).push(frame).map((v) => Buffer.from(v as Uint8Array))).toEqual([Buffer.alloc(1000)]);
    const junk = Buffer.from([0x80, 0, 0, 3, 0xff, 0xff, 0xff]);
    expect(() => new FrameDecoder().push(junk)).toThrow(/a deflated frame does not inflate/);
  });
});

describe('text where the first frame should be', () => {
  it.each([
    ['a frame', encodeFrame([1, 1, 'hello']), undefined],
    ['a deflated frame', encodeFrame([1, 1, 'x'.repeat(2000)], 1), undefined],
    ['a banner, then a frame', Buffer.concat([Buffer.from('Welcome to mail\r\n'), encodeFrame([1, 1, null])]), 'Welcome to mail\r\n'],
    ['a coloured banner in UTF-8', Buffer.from('\x1b[1mBienvenue à bord\x1b[0m\n'), '\x1b[1mBienvenue à bord\x1b[0m\n'],
    ['a terminal title set, then a frame', Buffer.concat([Buffer.from('\x1b]0;mail\x07hi\n'), encodeFrame([1, 1, null])]), '\x1b]0;mail\x07hi\n'],
    ['a control character first', Buffer.from('\x05hello'), undefined],
    ['text cut inside a character', Buffer.from('é').subarray(0, 1), undefined],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x41]), undefined],
  ])('%s', (_, head, text) => {
    expect(textBeforeFrames(head)).toBe(text);
  });
});
