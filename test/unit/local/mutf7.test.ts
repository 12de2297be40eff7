// IMAP modified UTF-7 (RFC 3501 §5.1.3): the encoding of folder names on disk.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../helpers/errors.js';
import { decodeMutf7, encodeMutf7 } from '../../../src/local/mutf7.js';

const rows: { text: string; encoded: string }[] = [
  // RFC 3501 §5.1.3 examples.
  { text: '~peter/mail/台北/日本語', encoded: '~peter/mail/&U,BTFw-/&ZeVnLIqe-' },
  { text: '☺!', encoded: '&Jjo-!' },
  { text: '&', encoded: '&-' },
  { text: 'Tom & Jerry', encoded: 'Tom &- Jerry' },
  { text: '', encoded: '' },
  { text: 'INBOX', encoded: 'INBOX' },
  { text: 'Entwürfe', encoded: 'Entw&APw-rfe' },
  { text: 'Отправленные', encoded: '&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-' },
  // Outside the BMP: a surrogate pair, both halves in one base64 run.
  { text: '😀', encoded: '&2D3eAA-' },
  // Controls and DEL are not printable: they are encoded too.
  { text: 'a\tb', encoded: 'a&AAk-b' },
  { text: '\x7f', encoded: '&AH8-' },
  // Adjacent non-ASCII characters share one run; ASCII between them ends it.
  { text: 'éé', encoded: '&AOkA6Q-' },
  { text: 'é é', encoded: '&AOk- &AOk-' },
  { text: 'é&é', encoded: '&AOk-&-&AOk-' },
];

describe('modified UTF-7', () => {
  it.each(rows)('encodes $text as $encoded', ({ text, encoded }) => {
    expect(encodeMutf7(text)).toBe(encoded);
  });

  it.each(rows)('decodes $encoded as $text', ({ text, encoded }) => {
    expect(decodeMutf7(encoded)).toBe(text);
  });

  it('round-trips any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
      const encoded = encodeMutf7(text);
      expect(encoded).toMatch(/^[\x20-\x7e]*$/);
      expect(decodeMutf7(encoded)).toBe(text);
    }), { numRuns: 500 });
  });

  it('round-trips strings of UTF-16 code units, lone surrogates included', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }), (units) => {
      const text = String.fromCharCode(...units);
      expect(decodeMutf7(encodeMutf7(text))).toBe(text);
    }), { numRuns: 300 });
  });

  const bad: { encoded: string; why: string }[] = [
    { encoded: '&', why: 'an unterminated "&" sequence' },
    { encoded: 'a&U,BTFw', why: 'an unterminated "&" sequence' },
    { encoded: 'Entwürfe', why: 'a character outside printable ASCII' },
    { encoded: 'a\tb', why: 'a character outside printable ASCII' },
    { encoded: '&U/BTFw-', why: 'a bad base64 sequence' },
    { encoded: '&U=-', why: 'a bad base64 sequence' },
    { encoded: '&A-', why: 'a non-canonical encoding' },
    // Plain ASCII must not be base64-encoded ("a" as &AGE-).
    { encoded: '&AGE-', why: 'a non-canonical encoding' },
    // Two runs back to back must be one.
    { encoded: '&Jjo-&Jjo-', why: 'a non-canonical encoding' },
    // Leftover bits must be zero.
    { encoded: '&U,B-', why: 'a non-canonical encoding' },
    // Three base64 characters make one byte and a half: not whole UTF-16 units.
    { encoded: '&AOkA-', why: 'an odd number of UTF-16 bytes' },
  ];
  it.each(bad)('rejects $encoded: $why', ({ encoded, why }) => {
    const err = errorOf(() => decodeMutf7(encoded));
    expect(err.code).toBe('BAD_FOLDER');
    expect(err.message).toBe(`folder name ${JSON.stringify(encoded)} is not valid modified UTF-7: ${why}`);
  });
});
