// A folder's files by GUID, packed (packed-files.ts): an entry object (ScannedFile) is made only
// for a file asked for, and let go of by the caller. An object, a parsed name and a GUID string
// per file, on both sides of a run, were most of a large run's memory.

import type { Location } from '../model.js';
import { guidLengthIn, MAX_NAME, type Separator } from './name.js';
import { CUR, FileTableBuilder, GONE, GuidIndex, hashText, Packed, partStarts, sameText, type ScannedFile } from './packed-files.js';

export { FileTableBuilder, ListedFile, type ScannedFile } from './packed-files.js';

/** Files set after packing kept as objects before they are packed with the rest. */
const LOOSE_MIN = 1024;
const LETTER_N = 0x6e;
const LETTER_C = 0x63;

/**
 * A folder's files by GUID, with what a Map of them gave: get, has, set, delete, size and
 * values(). Files set after the table was packed (a run's placements and renames) are kept as
 * objects until they are many, then packed with the rest.
 */
export class FileTable {
  private p: Packed;
  /** Files of the packed part still in it. */
  private live: number;
  private readonly loose = new Map<string, ScannedFile>();

  constructor(private readonly separator: Separator, packed?: Packed) {
    this.p = packed ?? new FileTableBuilder(separator).build();
    this.live = this.p.count;
  }

  static empty(separator: Separator): FileTable {
    return new FileTable(separator);
  }

  /** A table of these files (a listing made otherwise than by a scan: tests). */
  static of(separator: Separator, files: Iterable<ScannedFile>): FileTable {
    const table = new FileTable(separator);
    for (const file of files) table.set(file);
    return table;
  }

  /** The table of what a builder was given. */
  static built(separator: Separator, builder: FileTableBuilder): FileTable {
    return new FileTable(separator, builder.build());
  }

  get size(): number {
    return this.live + this.loose.size;
  }

  /** Files of the packed part, live or not: indices below this. */
  get packedCount(): number {
    return this.p.count;
  }

  /** The packed part as it is now (FileTableBuilder.addFrom), valid until the table is packed again. */
  get packed(): Packed {
    return this.p;
  }

  /** The packed index of the file of this GUID, or -1 (also for one set since packing: see get). */
  indexOf(guid: string): number {
    return this.p.indexOf(guid);
  }

  get(guid: string): ScannedFile | undefined {
    const loose = this.loose.get(guid);
    if (loose) return loose;
    const at = this.p.indexOf(guid);
    return at < 0 ? undefined : this.p.fileAt(at, this.separator);
  }

  has(guid: string): boolean {
    return this.loose.has(guid) || this.p.indexOf(guid) >= 0;
  }

  /** Whether the table holds this file: its GUID under the same name, in the same place. */
  holds(file: { guid: string; name: string; location: Location }): boolean {
    const loose = this.loose.get(file.guid);
    if (loose) return loose.name === file.name && loose.location === file.location;
    const at = this.p.indexOf(file.guid);
    return at >= 0 && this.p.locationAt(at) === file.location && this.p.nameIs(at, file.name);
  }

  /** Whether the packed file at `index` is still in the table. */
  isLive(index: number): boolean {
    return !((this.p.states[index] as number) & GONE);
  }

  /** Whether the packed file at `index` is named `name` (no string made). */
  nameIs(index: number, name: string): boolean {
    return this.p.nameIs(index, name);
  }

  locationAt(index: number): Location {
    return this.p.locationAt(index);
  }

  fileAt(index: number): ScannedFile {
    return this.p.fileAt(index, this.separator);
  }

  /** Puts a file in, in place of any of its GUID. */
  set(file: ScannedFile): void {
    if (!this.loose.has(file.guid)) this.drop(this.p.indexOf(file.guid));
    this.loose.set(file.guid, file);
    if (this.loose.size >= LOOSE_MIN && this.loose.size * 2 > this.live) this.pack();
  }

  delete(guid: string): boolean {
    if (this.loose.delete(guid)) return true;
    return this.drop(this.p.indexOf(guid));
  }

  private drop(at: number): boolean {
    if (at < 0) return false;
    this.p.states[at] = (this.p.states[at] as number) | GONE;
    this.live--;
    return true;
  }

  /**
   * Every file, the packed ones first, each a new object: the files as they were when asked for,
   * also when the table is packed meanwhile (a caller that awaits between files).
   */
  *values(): IterableIterator<ScannedFile> {
    const p = this.p;
    const loose = [...this.loose.values()];
    for (let i = 0; i < p.count; i++) if (!((p.states[i] as number) & GONE)) yield p.fileAt(i, this.separator);
    yield* loose;
  }

  /** Packs the files set since packing with the others: afterwards every file has a packed index. */
  pack(): void {
    if (this.loose.size === 0 && this.live === this.p.count) return;
    const p = this.p;
    const loose = [...this.loose.values()];
    // Only files added since (a first copy's placements): appended to the packed ones as they are.
    if (this.live === p.count && loose.every((f) => f.name.startsWith(f.guid))) {
      this.p = p.append(loose);
      this.live = this.p.count;
      this.loose.clear();
      return;
    }
    const builder = new FileTableBuilder(this.separator, this.size);
    for (let i = 0; i < p.count; i++) if (this.isLive(i)) builder.addFrom(p, i, p.nameAt(i), p.locationAt(i));
    // A name whose GUID is not its start (never made by a listing) stays an object.
    const kept = loose.filter((f) => !f.name.startsWith(f.guid));
    for (const f of loose) if (f.name.startsWith(f.guid)) builder.add(f.name, f.location, f.guid.length, f.hash);
    this.p = builder.build();
    this.live = this.p.count;
    this.loose.clear();
    for (const file of kept) this.loose.set(file.guid, file);
  }

  /**
   * The table as the scan cache keeps it: names joined by NUL (never in a file name), one letter
   * per location, hashes joined by NUL; three UTF-8 byte strings after their three lengths
   * (32-bit, big-endian). `hashOf` gives hashes the table does not hold, where some are known.
   */
  toRecord(hashOf?: (guid: string) => string | undefined): Uint8Array {
    this.pack();
    const p = this.p;
    const loose = [...this.loose.values()];
    const n = p.count + loose.length;
    const locations = Buffer.allocUnsafe(n);
    for (let i = 0; i < p.count; i++) locations[i] = (p.states[i] as number) & CUR ? LETTER_C : LETTER_N;
    loose.forEach((f, k) => { locations[p.count + k] = f.location === 'new' ? LETTER_N : LETTER_C; });
    // Packed, every file is live: names and hashes are the packed ones as they are, less the last NUL.
    const hashOfPacked = (i: number): string => p.hashAt(i) ?? hashOf?.(p.nameAt(i).slice(0, p.guidLengths[i])) ?? '';
    const packedHashes = hashOf ? Array.from({ length: p.count }, (_, i) => hashOfPacked(i)).join('\0') : p.hashes.slice(0, -1);
    const names = [p.names.slice(0, -1), ...loose.map((f) => f.name)];
    const hashes = [packedHashes, ...loose.map((f) => f.hash ?? hashOf?.(f.guid) ?? '')];
    if (p.count === 0) {
      names.shift();
      hashes.shift();
    }
    const parts = [Buffer.from(names.join('\0'), 'utf8'), locations, Buffer.from(hashes.join('\0'), 'utf8')];
    const head = Buffer.allocUnsafe(12);
    parts.forEach((part, i) => head.writeUInt32BE(part.length, i * 4));
    return Buffer.concat([head, ...parts]);
  }

  /** A table from a scan cache record's bytes (toRecord); undefined when they are not one. */
  static fromRecord(record: Uint8Array, separator: Separator): FileTable | undefined {
    const bytes = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
    if (bytes.length < 12) return undefined;
    const lengths = [0, 1, 2].map((i) => bytes.readUInt32BE(i * 4));
    if (12 + lengths.reduce((a, b) => a + b, 0) !== bytes.length) return undefined;
    let at = 12;
    const [names, locations, hashList] = lengths.map((length) => bytes.toString('utf8', at, (at += length))) as [string, string, string];
    const n = locations.length;
    if (n === 0) return names === '' && hashList === '' ? new FileTable(separator) : undefined;
    // The cache is a file like any other: a name in it no scan could have listed is damage
    // (checkName: a NUL cannot be in one, split on them).
    if (names.includes('/')) return undefined;
    // The record's names and hashes are the table's as they are: no string per file is made.
    const joined = `${names}\0`;
    const hashes = `${hashList}\0`;
    const starts = partStarts(joined, n);
    const hashStarts = partStarts(hashes, n);
    if (!starts || !hashStarts) return undefined;
    const guidLengths = new Uint8Array(n);
    const states = new Uint8Array(n);
    const index = new GuidIndex(n);
    for (let i = 0; i < n; i++) {
      const from = starts[i] as number;
      const end = (starts[i + 1] as number) - 1;
      if (end === from || end - from > MAX_NAME) return undefined;
      const length = guidLengthIn(joined, from, end, separator);
      guidLengths[i] = length;
      const same = (k: number): boolean => guidLengths[k] === length && sameText(joined, starts[k] as number, joined, from, length);
      if (index.insert(hashText(joined, from, length), same, i) >= 0) return undefined;
      if (locations.charCodeAt(i) !== LETTER_N) states[i] = CUR;
    }
    return new FileTable(separator, new Packed(joined, starts, guidLengths, states, hashes, hashStarts, index));
  }
}
