// Folders as the state stores them: read from the file and decoded on first use, sealed (encoded
// once their records are final), patched (a few records changed: one more line), compacted. What
// a folder was read or encoded as is kept beside it so a run writes back, unread, what it did not
// change.

import { Digest, digestEntries, entryLine } from '../../digest.js';
import { converged, sameRecord, sideEntries, recordKey, type Side, type StateFolder, type StateMessage, type SyncState, type Presence } from './model.js';
import { bodyLine, checkedBody, decodeMessages, encodeMessages, lookUpRecords, toMessageTuple, StateDamagedError, type SavedLine } from './records.js';

/** What the header says of a folder without reading its records. */
export interface SavedSummary {
  digestA: string;
  digestB: string;
  countA: number;
  countB: number;
  converged: boolean;
}

/** The lines a folder was loaded from, or was encoded as when sealed (sealedFolder); absent for others built in this run. */
const LINES = new WeakMap<StateFolder, SavedLine[]>();

/** Digests, counts and convergence of a folder as loaded, as a patch's maker gave them, or as sealed. */
const SUMMARY = new WeakMap<StateFolder, SavedSummary>();

interface Patch {
  base: StateFolder;
  drop: string[];
  added: StateMessage[];
}

const PATCHES = new WeakMap<StateFolder, Patch>();

/** More lines than this, or patches above half the first line's size, and the folder is written whole again. */
const MAX_LINES = 16;
/** Above this many keys a folder's records are decoded whole: one parse of the line beats as many small ones. */
const LOOKUP_MAX = 512;

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
export function folderSummary(folder: StateFolder): SavedSummary | undefined {
  return SUMMARY.get(folder);
}

/** A folder whose records are `folder`'s mapped on first use (its sides swapped: state-sides.ts), with this summary. */
export function mappedFolder(folder: StateFolder, presence: Presence, summary: SavedSummary | undefined, map: (m: StateMessage[]) => StateMessage[]): StateFolder {
  const copy = lazyFolder(presence.onA, presence.onB, presence.uidValidity, () => Object.freeze(map(folder.messages)) as StateMessage[]);
  if (summary) SUMMARY.set(copy, summary);
  const name = NAMES.get(folder);
  if (name !== undefined) NAMES.set(copy, name);
  return copy;
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
  digests?: Pick<SavedSummary, 'digestA' | 'digestB' | 'converged'>,
): StateFolder {
  const drop = new Set(dropped.map(recordKey));
  const folder = lazyFolder(presence.onA, presence.onB, presence.uidValidity, () => [...base.messages.filter((m) => !drop.has(recordKey(m))), ...added]);
  PATCHES.set(folder, { base, drop: [...drop], added });
  const count = (side: Side): number => sideCount(base, side) - dropped.filter((m) => m[side]).length + added.filter((m) => m[side]).length;
  SUMMARY.set(folder, { digestA: digests?.digestA ?? '', digestB: digests?.digestB ?? '', countA: count('a'), countB: count('b'), converged: digests?.converged ?? false });
  return folder;
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
export function linesOf(sf: StateFolder): { lines: SavedLine[]; asRead: boolean } {
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
function sideDigests(messages: StateMessage[]): Pick<SavedSummary, 'digestA' | 'digestB'> {
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

/** A folder as read from the file: its records decoded from `lines` on first use, its header's summary kept. */
export function loadedFolder(presence: Presence, name: string, lines: SavedLine[], summary: SavedSummary): StateFolder {
  const sf = lazyFolder(presence.onA, presence.onB, presence.uidValidity, () => decodeMessages(lines, name));
  LINES.set(sf, lines);
  NAMES.set(sf, name);
  SUMMARY.set(sf, summary);
  return sf;
}
