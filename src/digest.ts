// The digest of a folder's manifest: equal digests mean the same messages with the same flags.
//
// A digest is the sum, lane by lane modulo 2^32, of a hash of each entry: order does not matter,
// and a folder's digest follows a change by subtracting what left and adding what came, without
// looking at the messages that stayed. A run over a few changed messages in a large folder then
// costs what the changes cost.

import { hash128 } from './hash128.js';
import type { FolderManifest, MessageEntry } from './model.js';

type DigestEntry = Pick<MessageEntry, 'guid' | 'flags' | 'keywords' | 'location' | 'infoRest'>;

const LANES = 4;
const lineHash = new Uint32Array(LANES);

/** A running digest: entries are added and removed in any order. */
export class Digest {
  private readonly lanes = new Uint32Array(LANES);

  static parse(hex: string): Digest | undefined {
    if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
    const d = new Digest();
    for (let i = 0; i < LANES; i++) d.lanes[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16);
    return d;
  }

  clone(): Digest {
    const d = new Digest();
    d.lanes.set(this.lanes);
    return d;
  }

  add(e: DigestEntry): this {
    return this.addLine(entryLine(e), 1);
  }

  remove(e: DigestEntry): this {
    return this.addLine(entryLine(e), -1);
  }

  /** Adds (or takes away) a line's hash, to `also` too when given: the line is hashed once. */
  addLine(line: string, sign: 1 | -1, also?: Digest): this {
    hash128(line, lineHash);
    for (let i = 0; i < LANES; i++) this.lanes[i] = (this.lanes[i] as number) + sign * (lineHash[i] as number);
    if (also) for (let i = 0; i < LANES; i++) also.lanes[i] = (also.lanes[i] as number) + sign * (lineHash[i] as number);
    return this;
  }

  hex(): string {
    let out = '';
    for (const lane of this.lanes) out += lane.toString(16).padStart(8, '0');
    return out;
  }
}

/** The line an entry adds to a digest; `infoRest` for an entry that keeps it apart (a state record). */
export function entryLine(e: Omit<DigestEntry, 'infoRest'>, infoRest = (e as DigestEntry).infoRest): string {
  return `${e.guid}\t${e.flags}\t${e.keywords.join(' ')}\t${e.location}\t${infoRest ?? ''}`;
}

export function digestEntries(entries: Iterable<DigestEntry>): string {
  const d = new Digest();
  for (const e of entries) d.add(e);
  return d.hex();
}

/**
 * What a folder's dovecot-uidlist says, as one value: "" without a uidlist; equal values mean equal
 * UIDs and GUIDs. UIDVALIDITY is a line of its own, so the value under another one follows from it.
 */
export function digestUids(manifest: Pick<FolderManifest, 'uidValidity' | 'mailboxGuid' | 'messages'>): string {
  if (manifest.uidValidity === undefined) return '';
  const d = new Digest().addLine(uidValidityLine(manifest.uidValidity), 1).addLine(`G${manifest.mailboxGuid ?? ''}`, 1);
  for (const e of manifest.messages) if (e.uid !== undefined) d.addLine(`${e.guid}\t${e.uid}\t${e.dovecotGuid ?? ''}`, 1);
  return d.hex();
}

/** digestUids of the same UIDs under another UIDVALIDITY; undefined for a value not from digestUids. */
export function digestUidsUnder(uids: string, from: number, to: number): string | undefined {
  return Digest.parse(uids)?.addLine(uidValidityLine(from), -1).addLine(uidValidityLine(to), 1).hex();
}

function uidValidityLine(uidValidity: number): string {
  return `V${uidValidity}`;
}
