// The state file: one line of header (checksummed JSON: ids, subscriptions, and per folder its
// presence, UIDVALIDITY, digests, counts, and the size and checksum of its records), then one
// line of compact records per folder (records.ts). A folder's records are read and parsed only
// when asked for, and written back as they were read when nothing changed them: a run over a few
// changed folders neither reads nor decodes the others.

import { sha256 } from '../../sha256.js';
import { converged, STATE_VERSION, type Side, type SyncState } from './model.js';
import type { SavedLine } from './records.js';
import { folderSummary, linesOf, loadedFolder, readRecords, sideCount, sideDigest } from './stored.js';

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

export function serializeState(state: SyncState): Buffer {
  return Buffer.concat(stateParts(state));
}

/** The state file's bytes in pieces, to be written one after another: the records are never copied into one buffer. */
export function stateParts(state: SyncState): Buffer[] {
  const folders: HeaderFolder[] = [];
  const parts: Buffer[] = [];
  for (const [name, sf] of Object.entries(state.folders)) {
    const { lines, asRead } = linesOf(sf);
    const known = folderSummary(sf);
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
    const presence = { onA: f.onA, onB: f.onB, ...(f.uidValidity !== undefined ? { uidValidity: f.uidValidity } : {}) };
    state.folders[f.name] = loadedFolder(presence, f.name, lines, { digestA: f.digestA, digestB: f.digestB, countA: f.countA, countB: f.countB, converged: f.converged });
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
