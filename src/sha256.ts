// SHA-256 of a whole buffer in hex: the hash kept of every message body.

import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: Uint8Array, encoding: 'hex') => string;

// crypto.hash (Node 20.12 and later) makes no Hash object: a microsecond less per message.
const oneShot = (crypto as { hash?: OneShot }).hash;

export function sha256(data: Uint8Array): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}
