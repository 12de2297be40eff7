// The packed part of a folder's listing (file-table.ts): every name in one string and every body
// hash in another, each ended by a NUL, the GUID lengths and locations in typed arrays, and an
// open-addressing index over the GUIDs. Built in listing order by FileTableBuilder.

import type { Location } from '../model.js';
import { parseName, type ParsedName, type Separator } from './name.js';

export interface ScannedFile {
  readonly name: string;
  readonly location: Location;
  readonly guid: string;
  readonly parsed: ParsedName;
  /** SHA-256 of the body, when known. */
  hash?: string;
}

/** A file of a listing: its name parsed only when asked (most names of a large folder never are). */
export class ListedFile implements ScannedFile {
  #parsed?: ParsedName;
  hash?: string;

  constructor(readonly name: string, readonly location: Location, private readonly separator: Separator, readonly guid: string) {}

  get parsed(): ParsedName {
    this.#parsed ??= parseName(this.name, this.separator);
    return this.#parsed;
  }
}

export const CUR = 1;
/** Replaced or taken out since packed (the index still leads to it, and on past it). */
export const GONE = 2;

/** FNV-1a over the UTF-16 code units of text[from, from + length). */
export function hashText(text: string, from: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < from + length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether x[xFrom, xFrom + length) and y[yFrom, yFrom + length) are the same. */
export function sameText(x: string, xFrom: number, y: string, yFrom: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (x.charCodeAt(xFrom + i) !== y.charCodeAt(yFrom + i)) return false;
  return true;
}

/** Slots for `n` entries: a power of two, at most half full. */
const slotsFor = (n: number): Int32Array => new Int32Array(2 ** Math.max(4, Math.ceil(Math.log2(n * 2 + 1))));

/** Room for `n` items in a typed array, grown by doubling. */
function room<T extends Uint8Array | Uint32Array>(array: T, n: number, make: (length: number) => T): T {
  if (array.length >= n) return array;
  const grown = make(Math.max(n, array.length * 2, 64));
  grown.set(array);
  return grown;
}

/** The hash index over the GUIDs of files 0…n-1 (slot → index + 1, 0 for none), each GUID's hash kept. */
export class GuidIndex {
  private slots: Int32Array;
  private keys: Uint32Array;
  private count = 0;

  constructor(expected: number) {
    this.slots = slotsFor(expected);
    this.keys = new Uint32Array(expected);
  }

  /** The hash file `index` was indexed under: a file listed again is indexed anew without hashing its GUID. */
  keyAt(index: number): number {
    return this.keys[index] as number;
  }

  /** The index of hash `key` that `matches` accepts, or -1. */
  find(key: number, matches: (index: number) => boolean): number {
    const mask = this.slots.length - 1;
    for (let s = key & mask; ; s = (s + 1) & mask) {
      const at = (this.slots[s] as number) - 1;
      if (at < 0) return -1;
      if (matches(at)) return at;
    }
  }

  /**
   * Indexes file `index` (the next) under hash `key`, unless one `matches` says has its GUID is
   * indexed: returns that one, or -1 when indexed (one probe).
   */
  insert(key: number, matches: (index: number) => boolean, index: number): number {
    if ((this.count + 1) * 2 > this.slots.length) {
      this.slots = slotsFor(this.count + 1);
      for (let i = 0; i < this.count; i++) this.place(i);
    }
    const mask = this.slots.length - 1;
    let s = key & mask;
    for (; this.slots[s] !== 0; s = (s + 1) & mask) if (matches((this.slots[s] as number) - 1)) return (this.slots[s] as number) - 1;
    this.slots[s] = index + 1;
    this.keys = room(this.keys, index + 1, (n) => new Uint32Array(n));
    this.keys[index] = key;
    this.count++;
    return -1;
  }

  /** The same index with room for `expected` files (a table appended to). */
  copy(expected: number): GuidIndex {
    const index = new GuidIndex(expected);
    index.keys.set(this.keys.subarray(0, this.count));
    index.count = this.count;
    for (let i = 0; i < this.count; i++) index.place(i);
    return index;
  }

  /** Fixed at `n` files. */
  seal(n: number): void {
    if (this.keys.length > n) this.keys = this.keys.slice(0, n);
  }

  private place(index: number): void {
    const mask = this.slots.length - 1;
    let s = (this.keys[index] as number) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = index + 1;
  }
}

/** Where each of n NUL-ended parts of `text` starts, and one more: where a next would. */
export function partStarts(text: string, n: number): Uint32Array | undefined {
  const starts = new Uint32Array(n + 1);
  let from = 0;
  for (let i = 0; i < n; i++) {
    const end = text.indexOf('\0', from);
    if (end < 0) return undefined;
    starts[i] = from;
    from = end + 1;
  }
  starts[n] = from;
  return from === text.length ? starts : undefined;
}

/** The packed files of a table. */
export class Packed {
  constructor(
    /** The names, each ended by a NUL. */
    readonly names: string,
    readonly starts: Uint32Array,
    readonly guidLengths: Uint8Array,
    /** CUR and GONE bits. */
    readonly states: Uint8Array,
    /** The hashes, each ended by a NUL ('' where not known): as the scan cache keeps them. */
    readonly hashes: string,
    readonly hashStarts: Uint32Array,
    readonly index: GuidIndex,
  ) {
    index.seal(guidLengths.length);
  }

  get count(): number {
    return this.guidLengths.length;
  }

  indexOf(guid: string): number {
    return this.index.find(hashText(guid, 0, guid.length), (at) =>
      this.guidLengths[at] === guid.length && !((this.states[at] as number) & GONE) && this.names.startsWith(guid, this.starts[at]));
  }

  nameAt(i: number): string {
    return this.names.slice(this.starts[i], (this.starts[i + 1] as number) - 1);
  }

  nameIs(i: number, name: string): boolean {
    const from = this.starts[i] as number;
    return (this.starts[i + 1] as number) - 1 - from === name.length && this.names.startsWith(name, from);
  }

  locationAt(i: number): Location {
    return (this.states[i] as number) & CUR ? 'cur' : 'new';
  }

  hashAt(i: number): string | undefined {
    const from = this.hashStarts[i] as number;
    const end = (this.hashStarts[i + 1] as number) - 1;
    return end > from ? this.hashes.slice(from, end) : undefined;
  }

  /**
   * These files and `more` after them, none of which has a GUID of these (a table's files set
   * since packing, none of them gone): the strings are joined to these, not rebuilt name by name.
   */
  append(more: ScannedFile[]): Packed {
    const n = this.count;
    const total = n + more.length;
    const names = `${this.names}${more.map((f) => f.name).join('\0')}\0`;
    const hashes = `${this.hashes}${more.map((f) => f.hash ?? '').join('\0')}\0`;
    const starts = new Uint32Array(total + 1);
    const hashStarts = new Uint32Array(total + 1);
    starts.set(this.starts);
    hashStarts.set(this.hashStarts);
    const guidLengths = new Uint8Array(total);
    const states = new Uint8Array(total);
    guidLengths.set(this.guidLengths);
    states.set(this.states);
    const index = this.index.copy(total);
    more.forEach((f, k) => {
      const i = n + k;
      starts[i + 1] = (starts[i] as number) + f.name.length + 1;
      hashStarts[i + 1] = (hashStarts[i] as number) + (f.hash ?? '').length + 1;
      guidLengths[i] = f.guid.length;
      states[i] = f.location === 'cur' ? CUR : 0;
      index.insert(hashText(f.guid, 0, f.guid.length), () => false, i);
    });
    return new Packed(names, starts, guidLengths, states, hashes, hashStarts, index);
  }

  fileAt(i: number, separator: Separator): ScannedFile {
    const name = this.nameAt(i);
    const file = new ListedFile(name, this.locationAt(i), separator, name.slice(0, this.guidLengths[i]));
    const hash = this.hashAt(i);
    if (hash !== undefined) file.hash = hash;
    return file;
  }
}

/** Builds packed files in listing order; a GUID is looked up among the files added so far (duplicates). */
export class FileTableBuilder {
  private readonly names: string[] = [];
  private readonly hashes: string[] = [];
  private guidLengths: Uint8Array;
  private states: Uint8Array;
  private readonly index: GuidIndex;

  constructor(private readonly separator: Separator, expected = 0) {
    this.index = new GuidIndex(expected);
    this.guidLengths = new Uint8Array(expected);
    this.states = new Uint8Array(expected);
  }

  get size(): number {
    return this.names.length;
  }

  /** The file added under this GUID, or undefined. */
  get(guid: string): ScannedFile | undefined {
    const at = this.index.find(hashText(guid, 0, guid.length), (i) => this.guidLengths[i] === guid.length && (this.names[i] as string).startsWith(guid));
    return at < 0 ? undefined : this.fileAt(at);
  }

  fileAt(i: number): ScannedFile {
    const name = this.names[i] as string;
    const file = new ListedFile(name, (this.states[i] as number) & CUR ? 'cur' : 'new', this.separator, name.slice(0, this.guidLengths[i]));
    if (this.hashes[i]) file.hash = this.hashes[i];
    return file;
  }

  /**
   * Adds a file whose GUID is the first `guidLength` characters of its name, unless a file of that
   * GUID was added: returns that one's index, or -1 when added (at index size - 1). `key`: the
   * GUID's hash, where known.
   */
  add(name: string, location: Location, guidLength: number, hash = '', key = hashText(name, 0, guidLength)): number {
    const i = this.names.length;
    const seen = this.index.insert(key, (at) => this.guidLengths[at] === guidLength && sameText(this.names[at] as string, 0, name, 0, guidLength), i);
    if (seen >= 0) return seen;
    this.names.push(name);
    this.hashes.push(hash);
    this.guidLengths = room(this.guidLengths, i + 1, (n) => new Uint8Array(n));
    this.states = room(this.states, i + 1, (n) => new Uint8Array(n));
    this.guidLengths[i] = guidLength;
    this.states[i] = location === 'cur' ? CUR : 0;
    return -1;
  }

  /** Adds the packed file `at` under `name` and `location` (as listed now), its hash kept; as add() says. */
  addFrom(packed: Packed, at: number, name: string, location: Location): number {
    return this.add(name, location, packed.guidLengths[at] as number, packed.hashAt(at), packed.index.keyAt(at));
  }

  build(): Packed {
    const n = this.names.length;
    const names = n === 0 ? '' : `${this.names.join('\0')}\0`;
    const hashes = n === 0 ? '' : `${this.hashes.join('\0')}\0`;
    return new Packed(names, startsOf(this.names), this.guidLengths.slice(0, n), this.states.slice(0, n), hashes, startsOf(this.hashes), this.index);
  }
}

/** Where each of these parts starts once joined each ended by a NUL, and one more: where a next would. */
function startsOf(parts: string[]): Uint32Array {
  const starts = new Uint32Array(parts.length + 1);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    starts[i] = at;
    at += (parts[i] as string).length + 1;
  }
  starts[parts.length] = at;
  return starts;
}
