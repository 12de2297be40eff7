// The per-line hash under folder digests: stable, and every word of it moved by any change to a line.

import { describe, expect, it } from 'vitest';
import { hash128 } from '../../src/hash128.js';

function hex(s: string): string {
  const out = new Uint32Array(4);
  hash128(s, out);
  return [...out].map((w) => w.toString(16).padStart(8, '0')).join('');
}

const LINE = '1577836800.M1P1234Q1.mail.example.org,S=5321\tRS\t$Important Junk\tcur\t';

describe('hash128', () => {
  it('gives the same words for the same line, whatever came before', () => {
    const first = hex(LINE);
    hex('something else entirely');
    expect(hex(LINE)).toBe(first);
    // Pinned: a saved digest must mean the same thing to the next version.
    expect(hex('')).toBe('2b2a85238e27041e9fd6f34faafaa5e3');
  });

  it('changes every word when any one code unit of a line changes, or the length does', () => {
    const base = new Uint32Array(4);
    hash128(LINE, base);
    const other = new Uint32Array(4);
    const variants = [LINE + 'x', LINE.slice(0, -1), `${LINE}\u00e9`];
    for (let i = 0; i < LINE.length; i++) variants.push(LINE.slice(0, i) + String.fromCharCode(LINE.charCodeAt(i) ^ 1) + LINE.slice(i + 1));
    for (const v of variants) {
      hash128(v, other);
      for (let w = 0; w < 4; w++) expect(other[w], `word ${w} of ${JSON.stringify(v)}`).not.toBe(base[w]);
    }
  });

  it('spreads 200 000 similar lines over distinct 64-bit halves', () => {
    const out = new Uint32Array(4);
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      hash128(`1577836800.M${i}P1234Q${i}.mail.example.org,S=5321\tS\t\tcur\t`, out);
      seen.add(`${out[0]}:${out[1]}`);
    }
    expect(seen.size).toBe(200_000);
  });

  it('tells apart lines shorter than one word, and units above 0x7fff', () => {
    const all = ['', 'a', 'b', 'ab', 'ba', '\u00ff', '\uffff', '\ud83d\ude00', 'a\u0000'].map(hex);
    expect(new Set(all).size).toBe(all.length);
  });
});
