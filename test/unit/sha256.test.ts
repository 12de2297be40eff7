// The hash kept of every message body: SHA-256 in lowercase hex (FIPS 180-2 test vectors).

import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/sha256.js';

describe('sha256', () => {
  it('gives the standard digests', () => {
    expect(sha256(new Uint8Array())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('hashes a view of a larger buffer by its own bytes only', () => {
    const whole = Buffer.from('xxabcxx');
    expect(sha256(whole.subarray(2, 5))).toBe(sha256(Buffer.from('abc')));
  });
});
