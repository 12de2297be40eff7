// The saved base of a pair: what both sides held after the last successful sync.
// Pure data and (de)serialisation; the runner does the file I/O.

import { sha256 } from '../sha256.js';
import { Digest, digestEntries, entryLine } from '../digest.js';
import type { Location, MessageEntry, Placed } from '../model.js';

export const STATE_VERSION = 2;

/** One side's view of a message in the state. */
export interface SideRecord {
  guid: string;
  flags: string;
  keywords: string[];
  location: Location;
}

export interface StateMessage {
  hash: string;
  infoRest?: string;
  /** Absent when that side does not hold the message (one-way runs leave such gaps). */
  a?: SideRecord;
  b?: SideRecord;
}

export interface StateFolder {
  /** Whether each side held the folder at the last sync (one-way runs can leave it on one side). */
  onA: boolean;
  onB: boolean;
  messages: StateMessage[];
  /** Each side's UIDVALIDITY at the last sync, where it had a dovecot-uidlist: a change untrusts the folder's records. */
  uidValidity?: Partial<Record<Side, number>>;
}

export interface SyncState {
  /**
   * A checkpoint's state, saved mid-run: its folders' digests are left empty (never equal to a
   * side's), so the next run reads every folder the checkpoint wrote. Not itself saved.
   */
  provisional?: boolean;
  version: number;
  idA: string;
  idB: string;
  folders: Record<string, StateFolder>;
  subscriptions: string[];
}

export type Side = 'a' | 'b';

export function emptyState(idA: string, idB: string): SyncState {
  return { version: STATE_VERSION, idA, idB, folders: {}, subscriptions: [] };
}

/**
 * Records where a side placed a planned message (its name may differ from the planned one after a
 * collision) and the hash of the bytes it wrote; false when the record does not name that side.
 */
export function notePlaced(rec: StateMessage, to: Side, placed: Placed): boolean {
  const target = rec[to];
  if (!target) return false;
  const kept = withoutKeywords(target, placed.dropped);
  rec[to] = kept.guid === placed.guid ? kept : { ...kept, guid: placed.guid };
  rec.hash = placed.hash;
  return true;
}

/**
 * A side's record less the keywords it could not set (its folder was full): the state must say
 * what is on disk, or the next run would read their absence as a removal and spread it.
 */
export function withoutKeywords(rec: SideRecord, dropped: string[] | undefined): SideRecord {
  if (!dropped?.length) return rec;
  return { ...rec, keywords: rec.keywords.filter((k) => !dropped.includes(k)) };
}

/** The entries a side held per the state: what its folder digest must equal if nothing changed. */
export function sideEntries(folder: StateFolder, side: Side): MessageEntry[] {
  const out: MessageEntry[] = [];
  for (const m of folder.messages) {
    const r = m[side];
    if (r) out.push(recordEntry(m, r));
  }
  return out;
}

/** A side's record as the manifest entry it stands for, with the message's hash and info rest. */
export function recordEntry(m: StateMessage, r: SideRecord): MessageEntry {
  const entry: MessageEntry = { guid: r.guid, flags: r.flags, keywords: r.keywords, location: r.location, hash: m.hash };
  if (m.infoRest !== undefined) entry.infoRest = m.infoRest;
  return entry;
}

/** Where a folder is and its UIDVALIDITY on each side, as a state folder holds them. */
export type Presence = Pick<StateFolder, 'onA' | 'onB' | 'uidValidity'>;

/**
 * A side's digest per the state. A folder as loaded keeps the digests it was saved with, so a
 * no-change run compares them without reading its records.
 */
export function sideDigest(folder: StateFolder, side: Side): string {
  const saved = SUMMARY.get(folder);
  if (saved) return side === 'a' ? saved.digestA : saved.digestB;
  return digestEntries(sideEntries(folder, side));
}

/** How many messages a side held per the state. */
export function sideCount(folder: StateFolder, side: Side): number {
  const saved = SUMMARY.get(folder);
  if (saved) return side === 'a' ? saved.countA : saved.countB;
  let n = 0;
  for (const m of folder.messages) if (m[side]) n++;
  return n;
}

/**
 * Both sides held the folder and every message, under the same name and flags: a run that finds
 * both sides still at these digests has nothing to do there in any mode, and need not read it.
 */
export function isConverged(folder: StateFolder): boolean {
  const saved = SUMMARY.get(folder);
  if (saved) return saved.converged;
  return converged(folder);
}

function converged(folder: StateFolder): boolean {
  if (!folder.onA || !folder.onB) return false;
  return folder.messages.every((m) => m.a !== undefined && m.b !== undefined && sameRecord(m.a, m.b));
}

export function sameRecord(x: SideRecord, y: SideRecord): boolean {
  return x.guid === y.guid && x.flags === y.flags && x.location === y.location && x.keywords.join(' ') === y.keywords.join(' ');
}

/** The same folder with other UIDVALIDITY values, its records still unread. */
export function withUidValidity(folder: StateFolder, uidValidity: Partial<Record<Side, number>> | undefined): StateFolder {
  const copy = lazyFolder(folder.onA, folder.onB, uidValidity, () => folder.messages);
  const summary = SUMMARY.get(folder);
  const lines = LINES.get(folder);
  if (summary) SUMMARY.set(copy, summary);
  if (lines) LINES.set(copy, lines);
  const name = NAMES.get(folder);
  if (name !== undefined) NAMES.set(copy, name);
  return copy;
}

/** What the header said of a folder as loaded, sealed or patched; undefined for others. */
export function folderSummary(folder: StateFolder): FolderSummary | undefined {
  return SUMMARY.get(folder);
}

/** A folder whose records are `folder`'s mapped on first use (its sides swapped: state-sides.ts), with this summary. */
export function mappedFolder(folder: StateFolder, presence: Presence, summary: FolderSummary | undefined, map: (m: StateMessage[]) => StateMessage[]): StateFolder {
  const copy = lazyFolder(presence.onA, presence.onB, presence.uidValidity, () => Object.freeze(map(folder.messages)) as StateMessage[]);
  if (summary) SUMMARY.set(copy, summary);
  const name = NAMES.get(folder);
  if (name !== undefined) NAMES.set(copy, name);
  return copy;
}

/** What identifies a record within its folder's patches: the message's name on a (else on b). */
export function recordKey(m: StateMessage): string {
  return m.a?.guid ?? m.b?.guid ?? '';
}

/** What the header says of a folder without reading its records. */
export interface FolderSummary {
  digestA: string;
  digestB: string;
  countA: number;
  countB: number;
  converged: boolean;
}

/**
 * A folder whose records are `base`'s less `dropped` (records of `base`), plus `added`: saved as
 * one more line after the lines `base` was read from, so a run over a few changed messages writes
 * only those. The caller gives both sides' digests and whether the folder is converged (it knows
 * the sides' digests); a checkpoint leaves them out.
 */
export function patchFolder(
  base: StateFolder, dropped: StateMessage[], added: StateMessage[],
  presence: Presence,
  digests?: Pick<FolderSummary, 'digestA' | 'digestB' | 'converged'>,
): StateFolder {
  const drop = new Set(dropped.map(recordKey));
  const folder = lazyFolder(presence.onA, presence.onB, presence.uidValidity, () => [...base.messages.filter((m) => !drop.has(recordKey(m))), ...added]);
  PATCHES.set(folder, { base, drop: [...drop], added });
  const count = (side: Side): number => sideCount(base, side) - dropped.filter((m) => m[side]).length + added.filter((m) => m[side]).length;
  SUMMARY.set(folder, { digestA: digests?.digestA ?? '', digestB: digests?.digestB ?? '', countA: count('a'), countB: count('b'), converged: digests?.converged ?? false });
  return folder;
}

// The file: one line of header (checksummed JSON: ids, subscriptions, and per folder its presence,
// UIDVALIDITY, digests, counts, and the size and checksum of its records), then one line of
// compact records per folder. A folder's records are read and parsed only when asked for, and
// written back as they were read when nothing changed them: a run over a few changed folders
// neither reads nor decodes the others.

/** One line of a folder's records in the file: read on first use. */
interface SavedLine {
  bytes: number;
  sha256: string;
  body: () => Buffer;
}

/** The lines a folder was loaded from, or was encoded as when sealed (sealedFolder); absent for others built in this run. */
const LINES = new WeakMap<StateFolder, SavedLine[]>();
/** Digests, counts and convergence of a folder as loaded, as a patch's maker gave them, or as sealed. */
const SUMMARY = new WeakMap<StateFolder, FolderSummary>();

interface Patch {
  base: StateFolder;
  drop: string[];
  added: StateMessage[];
}

const PATCHES = new WeakMap<StateFolder, Patch>();
/** More lines than this, or patches above half the first line's size, and the folder is written whole again. */
const MAX_LINES = 16;

interface HeaderFolder {
  name: string;
  onA: boolean;
  onB: boolean;
  uidValidity?: Partial<Record<Side, number>>;
  digestA: string;
  digestB: string;
  countA: number;
  countB: number;
  converged: boolean;
  /** Length and SHA-256 of the folder's first line of records. */
  bytes: number;
  sha256: string;
  /** Length and SHA-256 of each patch line after it: records dropped (by recordKey) and added. */
  patches?: [number, string][];
}

interface Header {
  version: number;
  idA: string;
  idB: string;
  subscriptions: string[];
  folders: HeaderFolder[];
}

type RecordTuple = [string, string, string[], 'c' | 'n'];
/** [hash, infoRest or 0, a's record or 0, b's record, 0, or 1 when it equals a's] */
type MessageTuple = [string, string | 0, RecordTuple | 0, RecordTuple | 0 | 1];

const toTuple = (r: SideRecord): RecordTuple => [r.guid, r.flags, r.keywords, r.location === 'new' ? 'n' : 'c'];
const fromTuple = (t: RecordTuple): SideRecord => ({ guid: t[0], flags: t[1], keywords: t[2], location: t[3] === 'n' ? 'new' : 'cur' });

const toMessageTuple = (m: StateMessage): MessageTuple => [
  m.hash, m.infoRest ?? 0, m.a ? toTuple(m.a) : 0, !m.b ? 0 : m.a && sameRecord(m.a, m.b) ? 1 : toTuple(m.b),
];

/**
 * A folder's records as one JSON list whose items are apart by a tab (JSON whitespace, never raw
 * inside a JSON string): the line parses whole as a list, and one record can be cut out of it
 * and parsed alone (recordsFor).
 */
function encodeMessages(messages: StateMessage[]): string {
  return `[${messages.map((m) => JSON.stringify(toMessageTuple(m))).join(',\t')}]`;
}

/** The saved state's records of a folder fail their checksum or cannot be decoded. */
export class StateDamagedError extends Error {
  readonly code = 'STATE_DAMAGED';
}

function damagedRecords(name: string, why: string): StateDamagedError {
  return new StateDamagedError(`the records of folder ${JSON.stringify(name)} ${why}`);
}

/** Lines whose bytes were found to be what their header entry describes. */
const CHECKED = new WeakSet<SavedLine>();

/** A line's bytes, when they are the bytes its header entry describes. */
function checkedBody(line: SavedLine, name: string): Buffer {
  const body = line.body();
  if (CHECKED.has(line)) return body;
  if (body.length !== line.bytes || sha256(body) !== line.sha256) throw damagedRecords(name, 'fail their checksum');
  CHECKED.add(line);
  return body;
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw damagedRecords(name, 'are not JSON');
  }
}

function parsePatch(line: SavedLine, name: string): { drop: unknown[]; add: MessageTuple[] } {
  const patch = parseJson(checkedBody(line, name).toString('utf8'), name);
  if (!isObject(patch) || !Array.isArray(patch.drop) || !Array.isArray(patch.add)) throw damagedRecords(name, 'hold a patch that is not one');
  return { drop: patch.drop, add: patch.add as MessageTuple[] };
}

function decodeMessages(lines: SavedLine[], name: string): StateMessage[] {
  const [first, ...patches] = lines;
  const tuples = first ? parseJson(checkedBody(first, name).toString('utf8'), name) : [];
  if (!Array.isArray(tuples)) throw damagedRecords(name, 'are not a list');
  // Records read from the file stand for the file's bytes: never changed in place.
  return Object.freeze(withPatches(fromTuples(tuples as MessageTuple[]), patches, name)) as StateMessage[];
}

/** Records after the patch lines that follow them: those dropped by key go, those added come (all, or those `keep` keeps). */
function withPatches(records: StateMessage[], patches: SavedLine[], name: string, keep: (m: StateMessage) => boolean = () => true): StateMessage[] {
  let out = records;
  for (const line of patches) {
    const patch = parsePatch(line, name);
    const drop = new Set(patch.drop);
    out = [...out.filter((m) => !drop.has(recordKey(m))), ...fromTuples(patch.add).filter(keep)];
  }
  return out;
}

/** Above this many keys a folder's records are decoded whole: one parse of the line beats as many small ones. */
const LOOKUP_MAX = 512;

/** Where the JSON string starting at `at` (its opening quote) ends: its closing quote, or -1. */
function stringEnd(text: string, at: number): number {
  for (let q = text.indexOf('"', at + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return -1;
}

/** The end of the JSON value at `at` that is 0 or a string; -1 when it is neither. */
function zeroOrStringEnd(text: string, at: number): number {
  if (text.charCodeAt(at) === 0x30) return at + 1;
  if (text.charCodeAt(at) !== 0x22) return -1;
  const q = stringEnd(text, at);
  return q < 0 ? -1 : q + 1;
}

/**
 * The JSON text of a record's key (recordKey), quotes included, read off the tuple's text
 * without parsing it: [hash, infoRest or 0, a's record or 0, b's record...]. Undefined when the
 * text is not laid out so.
 */
function keyText(text: string, p: number): string | undefined {
  if (text.charCodeAt(p) !== 0x5b || text.charCodeAt(p + 1) !== 0x22) return undefined;
  let i = stringEnd(text, p + 1) + 1;
  if (i === 0 || text.charCodeAt(i) !== 0x2c) return undefined;
  i = zeroOrStringEnd(text, i + 1);
  if (i < 0 || text.charCodeAt(i) !== 0x2c) return undefined;
  i++;
  // a's record is 0: the key is b's.
  if (text.charCodeAt(i) === 0x30 && text.charCodeAt(i + 1) === 0x2c) i += 2;
  if (text.charCodeAt(i) !== 0x5b) return text.charCodeAt(i) === 0x30 ? '""' : undefined;
  const end = zeroOrStringEnd(text, i + 1);
  return end < 0 ? undefined : text.slice(i + 1, end);
}

/**
 * The records of a folder read from the file whose key is one of `keys`, without decoding the
 * rest; undefined when the first line is not tab-separated (written before records were), and
 * the caller decodes it whole. One pass over the line's items reads each one's key off its text;
 * only the items asked for are parsed.
 */
function lookUpRecords(lines: SavedLine[], name: string, keys: Set<string>): StateMessage[] | undefined {
  const [first, ...patches] = lines;
  if (!first) return [];
  const body = checkedBody(first, name);
  if (body.length < 2 || body[0] !== 0x5b || body[body.length - 1] !== 0x5d) throw damagedRecords(name, 'are not a list');
  // Read as Latin-1, one character per byte: offsets in the text are offsets in the bytes.
  const text = body.toString('latin1');
  if (!text.includes('\t')) return undefined;
  const wanted = new Set([...keys].map((k) => Buffer.from(JSON.stringify(k)).toString('latin1')));
  const out: StateMessage[] = [];
  for (let p = 1; p < text.length - 1;) {
    const tab = text.indexOf('\t', p);
    // Items end with the "," before the next tab; the last with the list's "]".
    const end = tab < 0 ? text.length - 1 : tab - 1;
    const key = keyText(text, p);
    if (key === undefined) throw damagedRecords(name, 'are not records');
    if (wanted.has(key)) {
      const tuple = parseJson(body.toString('utf8', p, end), name);
      if (!Array.isArray(tuple)) throw damagedRecords(name, 'are not records');
      out.push(...fromTuples([tuple as MessageTuple]));
    }
    if (tab < 0) break;
    p = tab + 1;
  }
  return withPatches(out, patches, name, (m) => keys.has(recordKey(m)));
}

/**
 * A folder's records whose key (recordKey) is one of `keys`. A folder read from the file and not
 * decoded yet is not decoded for this: its few records are cut out of its lines, so a run over a
 * few changes in a large folder neither parses nor keeps the others.
 */
export function recordsFor(folder: StateFolder, keys: Set<string>): StateMessage[] {
  if (keys.size === 0) return [];
  if (keys.size <= LOOKUP_MAX && !DECODED.has(folder)) {
    const lines = LINES.get(folder);
    const name = NAMES.get(folder);
    const found = lines && name !== undefined ? lookUpRecords(lines, name, keys) : undefined;
    if (found) return found;
    const patch = PATCHES.get(folder);
    if (patch) {
      const drop = new Set(patch.drop);
      return [...recordsFor(patch.base, keys).filter((m) => !drop.has(recordKey(m))), ...patch.added.filter((m) => keys.has(recordKey(m)))];
    }
  }
  return folder.messages.filter((m) => keys.has(recordKey(m)));
}

function fromTuples(tuples: MessageTuple[]): StateMessage[] {
  return tuples.map((t: MessageTuple): StateMessage => {
    const m: StateMessage = { hash: t[0] };
    if (t[1] !== 0) m.infoRest = t[1];
    if (t[2] !== 0) m.a = fromTuple(t[2]);
    if (t[3] === 1) {
      if (m.a) m.b = { ...m.a };
    } else if (t[3] !== 0) {
      m.b = fromTuple(t[3]);
    }
    return m;
  });
}

/** Lazy folders whose records have been produced. */
const DECODED = new WeakSet<StateFolder>();
/** The name a folder read from the file has there (for what its damage says). */
const NAMES = new WeakMap<StateFolder, string>();

/** A folder whose records are produced on first use. */
function lazyFolder(onA: boolean, onB: boolean, uidValidity: Partial<Record<Side, number>> | undefined, load: () => StateMessage[]): StateFolder {
  let messages: StateMessage[] | undefined;
  const folder = { onA, onB } as StateFolder;
  Object.defineProperty(folder, 'messages', {
    enumerable: true,
    get: () => {
      if (!messages) {
        messages = load();
        DECODED.add(folder);
      }
      return messages;
    },
  });
  if (uidValidity !== undefined) folder.uidValidity = uidValidity;
  return folder;
}

/**
 * Reads the records of these folders now, so that damage shows before anything is planned
 * (the state is then unusable as a whole); returns why, or undefined when all are sound. Folders
 * `checksumOnly` names have their lines' checksums checked and stay undecoded: records cut out
 * of them later (recordsFor) throw StateDamagedError if they are not records after all.
 */
export function readRecords(state: SyncState, names: Iterable<string>, checksumOnly: (name: string) => boolean = () => false): string | undefined {
  try {
    for (const name of names) {
      const sf = state.folders[name];
      const lines = sf && !DECODED.has(sf) && checksumOnly(name) ? LINES.get(sf) : undefined;
      if (lines) for (const line of lines) checkedBody(line, name);
      else void sf?.messages;
    }
    return undefined;
  } catch (err) {
    if (err instanceof StateDamagedError) return err.message;
    throw err;
  }
}

/** The lines a folder is written as: those it was read (or sealed) as, perhaps one patch more, or all anew. */
function linesOf(sf: StateFolder): { lines: SavedLine[]; asRead: boolean } {
  const read = LINES.get(sf);
  if (read) return { lines: read, asRead: true };
  const patch = PATCHES.get(sf);
  const baseLines = patch && LINES.get(patch.base);
  if (patch && baseLines && baseLines.length < MAX_LINES) {
    const body = Buffer.from(JSON.stringify({ drop: patch.drop, add: patch.added.map(toMessageTuple) }));
    const patched = baseLines.slice(1).reduce((n, l) => n + l.bytes, body.length);
    if (patched <= (baseLines[0]?.bytes ?? 0) / 2) return { lines: [...baseLines, bodyLine(body)], asRead: false };
  }
  return { lines: [bodyLine(Buffer.from(encodeMessages(sf.messages)))], asRead: false };
}

/**
 * A folder whose records are final before the run ends, encoded now: its line, digests and counts
 * are computed once, and a checkpoint or the final save only writes them. A first copy seals each
 * folder as its last file lands, while the other folders' files are still being copied.
 */
export function sealedFolder(presence: Presence, messages: StateMessage[]): StateFolder {
  const folder: StateFolder = { onA: presence.onA, onB: presence.onB, messages };
  if (presence.uidValidity !== undefined) folder.uidValidity = presence.uidValidity;
  LINES.set(folder, [bodyLine(Buffer.from(encodeMessages(messages)))]);
  SUMMARY.set(folder, { ...sideDigests(messages), countA: sideCount(folder, 'a'), countB: sideCount(folder, 'b'), converged: converged(folder) });
  return folder;
}

/**
 * The folder as its encoded lines alone, its records decoded again only if used: a run that goes
 * on to other folders (a first copy in passes) need not hold these records as objects.
 */
export function compactFolder(sf: StateFolder, name: string): StateFolder {
  const { lines } = linesOf(sf);
  const known = SUMMARY.get(sf) ?? { ...sideDigests(sf.messages), countA: sideCount(sf, 'a'), countB: sideCount(sf, 'b'), converged: converged(sf) };
  const folder = lazyFolder(sf.onA, sf.onB, sf.uidValidity, () => decodeMessages(lines, name));
  LINES.set(folder, lines);
  NAMES.set(folder, name);
  SUMMARY.set(folder, known);
  return folder;
}

/**
 * Both sides' digests (sideDigest) in one pass, without an entry object per record: a record the
 * same on both sides, as every record is after a copy, is hashed once for both.
 */
function sideDigests(messages: StateMessage[]): Pick<FolderSummary, 'digestA' | 'digestB'> {
  const a = new Digest();
  const b = new Digest();
  for (const m of messages) {
    if (m.a && m.b && sameRecord(m.a, m.b)) {
      a.addLine(entryLine(m.a, m.infoRest), 1, b);
      continue;
    }
    if (m.a) a.addLine(entryLine(m.a, m.infoRest), 1);
    if (m.b) b.addLine(entryLine(m.b, m.infoRest), 1);
  }
  return { digestA: a.hex(), digestB: b.hex() };
}

function bodyLine(body: Buffer): SavedLine {
  return { bytes: body.length, sha256: sha256(body), body: () => body };
}

export function serializeState(state: SyncState): Buffer {
  return Buffer.concat(stateParts(state));
}

/** The state file's bytes in pieces, to be written one after another: the records are never copied into one buffer. */
export function stateParts(state: SyncState): Buffer[] {
  const folders: HeaderFolder[] = [];
  const parts: Buffer[] = [];
  for (const [name, sf] of Object.entries(state.folders)) {
    const { lines, asRead } = linesOf(sf);
    const known = SUMMARY.get(sf);
    // A checkpoint's folders are written with empty digests unless unchanged since loaded, or
    // sealed (their records final).
    const summary = asRead ? known : state.provisional ? undefined : known;
    const settled = asRead || !state.provisional;
    const [first, ...patches] = lines as [SavedLine, ...SavedLine[]];
    const h: HeaderFolder = {
      name, onA: sf.onA, onB: sf.onB,
      digestA: summary?.digestA ?? (settled ? sideDigest(sf, 'a') : ''),
      digestB: summary?.digestB ?? (settled ? sideDigest(sf, 'b') : ''),
      countA: known?.countA ?? sideCount(sf, 'a'),
      countB: known?.countB ?? sideCount(sf, 'b'),
      converged: summary?.converged ?? (settled && converged(sf)),
      bytes: first.bytes,
      sha256: first.sha256,
    };
    if (patches.length > 0) h.patches = patches.map((l) => [l.bytes, l.sha256]);
    if (sf.uidValidity !== undefined) h.uidValidity = sf.uidValidity;
    folders.push(h);
    for (const line of lines) parts.push(NEWLINE, line.body());
  }
  const header: Header = { version: state.version, idA: state.idA, idB: state.idB, subscriptions: state.subscriptions, folders };
  const text = JSON.stringify(header);
  return [Buffer.from(`{"sha256":"${sha256(Buffer.from(text))}","state":${text}}`), ...parts];
}

const NEWLINE = Buffer.from('\n');

export type StateLoad = { kind: 'ok'; state: SyncState } | { kind: 'corrupt'; why: string };

/** A state file read on demand: its size, and bytes at an offset. */
export interface StateReader {
  size: number;
  read(offset: number, length: number): Buffer;
}

const WRITTEN_PREFIX = /^\{"sha256":"([0-9a-f]{64})","state":/;

/**
 * A damaged or foreign state is never trusted: the caller falls back to a first-meeting merge.
 * `file` is the whole file, or (with `reader`) at least its first line; records are then read
 * through `reader` when first used, and their damage shows then (see readRecords).
 */
export function parseState(file: Buffer | string, reader?: StateReader): StateLoad {
  const bytes = typeof file === 'string' ? Buffer.from(file) : file;
  const eol = bytes.indexOf(0x0a);
  const first = (eol < 0 ? bytes : bytes.subarray(0, eol)).toString('utf8');
  const written = WRITTEN_PREFIX.exec(first);
  if (!written || !first.endsWith('}')) {
    try {
      JSON.parse(first);
    } catch {
      return { kind: 'corrupt', why: 'not JSON' };
    }
    return { kind: 'corrupt', why: 'missing fields' };
  }
  // The header is hashed as stored, in the layout serializeState writes: no re-encoding.
  const text = first.slice(written[0].length, -1);
  if (sha256(Buffer.from(text)) !== written[1]) return { kind: 'corrupt', why: 'checksum mismatch' };
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    return { kind: 'corrupt', why: 'not JSON' };
  }
  if (!isObject(header)) return { kind: 'corrupt', why: 'missing fields' };
  if (header.version !== STATE_VERSION) return { kind: 'corrupt', why: `version ${String(header.version)}` };
  const h = header as unknown as Header;
  if (!Array.isArray(h.folders)) return { kind: 'corrupt', why: 'missing fields' };
  const size = reader ? reader.size : bytes.length;
  let offset = Buffer.byteLength(first);
  const lineSizes = (f: HeaderFolder): [number, string][] => [[f.bytes, f.sha256], ...(Array.isArray(f.patches) ? f.patches : [])];
  const placed = h.folders.map((f) => lineSizes(f).map(([bytes, digest]) => {
    const at = offset + 1;
    offset = at + bytes;
    return { at, bytes, sha256: digest };
  }));
  if (offset !== size) return { kind: 'corrupt', why: size < offset ? 'truncated' : 'trailing bytes' };
  const state: SyncState = { version: h.version, idA: h.idA, idB: h.idB, folders: {}, subscriptions: h.subscriptions };
  h.folders.forEach((f, i) => {
    const lines = (placed[i] ?? []).map(({ at, bytes: length, sha256: digest }): SavedLine => {
      // Read once: a line checked is read again to be searched and to be written back.
      let body: Buffer | undefined;
      return { bytes: length, sha256: digest, body: () => (body ??= reader ? reader.read(at, length) : bytes.subarray(at, at + length)) };
    });
    const sf = lazyFolder(f.onA, f.onB, f.uidValidity, () => decodeMessages(lines, f.name));
    LINES.set(sf, lines);
    NAMES.set(sf, f.name);
    SUMMARY.set(sf, { digestA: f.digestA, digestB: f.digestB, countA: f.countA, countB: f.countB, converged: f.converged });
    state.folders[f.name] = sf;
  });
  if (!reader) {
    // The whole file is at hand: every folder's records are checked now.
    const why = readRecords(state, Object.keys(state.folders));
    if (why) return { kind: 'corrupt', why };
  }
  return { kind: 'ok', state };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
