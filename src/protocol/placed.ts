// Answers to `deliver`, packed: each message's SHA-256 as 32 bytes and
// whether it was already there as one byte, in the order asked; only a message placed under
// another name, or with keywords dropped, is named: half the bytes of names and hex hashes
// (docs/performance.md, "On the wire").

import { MdsyncError } from '../errors.js';
import type { Placed } from '../model.js';
import type { Result } from './messages.js';

type PackedPlaced = Result<'deliver'>;
type Other = PackedPlaced['others'][number];

const HASH_BYTES = 32;
const HEX_HASH = /^[0-9a-f]{64}$/;

/** Packs the outcomes of one delivery batch; they come from this side's own Agent. */
export function packPlaced(placed: Placed[]): PackedPlaced {
  const hashes = Buffer.alloc(HASH_BYTES * placed.length);
  const existed = new Uint8Array(placed.length);
  const others: Other[] = [];
  placed.forEach((p, at) => {
    if (!HEX_HASH.test(p.hash)) throw new Error(`placed ${p.guid} with a hash that is not a SHA-256 in hex: ${JSON.stringify(p.hash)}`);
    hashes.write(p.hash, at * HASH_BYTES, HASH_BYTES, 'hex');
    existed[at] = p.existed ? 1 : 0;
    if (p.guid === p.wanted && !p.vanished && !p.dropped) return;
    const other: Other = { at };
    if (p.guid !== p.wanted) other.guid = p.guid;
    if (p.vanished) other.vanished = true;
    if (p.dropped) other.dropped = p.dropped;
    others.push(other);
  });
  return { hashes, existed, others };
}

/** The outcomes of delivering `wanted` (the GUIDs asked for, in order), or a PROTOCOL error naming the field. */
export function placedFromWire(answer: PackedPlaced, wanted: string[], label: string, folder: string): Placed[] {
  const fail = (field: string, why: string): never => {
    throw new MdsyncError('PROTOCOL', `${label}: protocol error: answer to deliver.${field} (folder ${JSON.stringify(folder)}): ${why}`);
  };
  const n = wanted.length;
  if (answer.hashes.length !== HASH_BYTES * n) fail('hashes', `${answer.hashes.length} bytes for ${n} messages (${HASH_BYTES} each)`);
  if (answer.existed.length !== n) fail('existed', `${answer.existed.length} bytes for ${n} messages`);
  const hashes = Buffer.from(answer.hashes.buffer, answer.hashes.byteOffset, answer.hashes.length);
  const out: Placed[] = wanted.map((guid, at) => {
    const existed = answer.existed[at] as number;
    if (existed > 1) fail(`existed[${at}]`, `expected 0 or 1, got ${existed}`);
    return { wanted: guid, guid, hash: hashes.toString('hex', at * HASH_BYTES, (at + 1) * HASH_BYTES), existed: existed === 1 };
  });
  const named = new Set<number>();
  answer.others.forEach((other, i) => {
    // Each message's outcome is told once: a second entry for it would rename it twice.
    if (other.at >= n) fail(`others[${i}].at`, `message ${other.at} of ${n}`);
    if (named.has(other.at)) fail(`others[${i}].at`, `message ${other.at} named twice`);
    named.add(other.at);
    const p = out[other.at] as Placed;
    if (other.guid !== undefined) p.guid = other.guid;
    if (other.vanished) p.vanished = true;
    if (other.dropped) p.dropped = other.dropped;
  });
  return out;
}
