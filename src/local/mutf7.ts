// IMAP modified UTF-7 (RFC 3501 §5.1.3), the encoding of folder names on disk in Maildir.

import { MdsyncError } from '../errors.js';

function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

export function encodeMutf7(text: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes = Buffer.alloc(pending.length * 2);
    pending.forEach((unit, i) => bytes.writeUInt16BE(unit, i * 2));
    out += '&' + bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    pending = [];
  };
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isDirect(code)) {
      flush();
      out += code === 0x26 ? '&-' : text[i];
    } else {
      pending.push(code);
    }
  }
  flush();
  return out;
}

export function decodeMutf7(encoded: string): string {
  let out = '';
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded[i] as string;
    const code = encoded.charCodeAt(i);
    if (!isDirect(code)) throw badMutf7(encoded, 'a character outside printable ASCII');
    if (ch !== '&') {
      out += ch;
      continue;
    }
    const end = encoded.indexOf('-', i + 1);
    if (end < 0) throw badMutf7(encoded, 'an unterminated "&" sequence');
    const chunk = encoded.slice(i + 1, end);
    i = end;
    if (chunk === '') {
      out += '&';
      continue;
    }
    if (!/^[A-Za-z0-9+,]+$/.test(chunk)) throw badMutf7(encoded, 'a bad base64 sequence');
    const bytes = Buffer.from(chunk.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) throw badMutf7(encoded, 'an odd number of UTF-16 bytes');
    let units = '';
    for (let j = 0; j < bytes.length; j += 2) units += String.fromCharCode(bytes.readUInt16BE(j));
    out += units;
  }
  if (encodeMutf7(out) !== encoded) throw badMutf7(encoded, 'a non-canonical encoding');
  return out;
}

function badMutf7(name: string, what: string): MdsyncError {
  return new MdsyncError('BAD_FOLDER', `folder name ${JSON.stringify(name)} is not valid modified UTF-7: ${what}`);
}
