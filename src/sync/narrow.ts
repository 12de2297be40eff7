// Narrowing a folder to what changed: where the last sync left both sides' copies alike, the
// messages neither side touched since have nothing to plan, so the diff sees only the touched
// ones, and the state keeps the rest as it was saved (a patch line). A run over a few changes in
// large folders then costs what the changes cost.

import { Digest } from '../digest.js';
import type { FolderChanges, FolderManifest, MessageEntry } from '../model.js';
import { patchFolder, recordEntry, recordsFor, sameRecord, type Presence, type Side, type SideRecord, type StateFolder, type StateMessage } from './state.js';

/** A folder the diff sees narrowed: its saved records, the touched ones, and each side's digest now. */
export interface NarrowFolder {
  base: StateFolder;
  touched: StateMessage[];
  /** Each side's entries for the touched messages, as handed to the diff. */
  entries: Record<Side, MessageEntry[]>;
  digests: Record<Side, Digest>;
  /** Each side's skipped GUIDs (FolderManifest.skipped), for the diff. */
  skipped: Record<Side, string[] | undefined>;
}

function sameEntry(e: MessageEntry, m: StateMessage, r: SideRecord): boolean {
  return e.flags === r.flags && e.location === r.location && e.infoRest === m.infoRest
    && e.keywords.join(' ') === r.keywords.join(' ') && (e.hash === undefined || e.hash === m.hash);
}

/** A side's changes, from its full manifest and the saved records. */
export function changesFrom(manifest: FolderManifest, records: StateMessage[], side: Side): FolderChanges {
  const byGuid = new Map(manifest.messages.map((e) => [e.guid, e]));
  const changed: MessageEntry[] = [];
  const gone: string[] = [];
  for (const m of records) {
    const r = m[side];
    if (!r) continue;
    const e = byGuid.get(r.guid);
    if (!e) gone.push(r.guid);
    else if (!sameEntry(e, m, r)) changed.push(e);
    byGuid.delete(r.guid);
  }
  for (const e of byGuid.values()) changed.push(e);
  return manifest.skipped ? { changed, gone, skipped: manifest.skipped } : { changed, gone };
}

/**
 * Narrows a converged folder to the messages either side touched. Undefined when a digest is not
 * one this version writes (the folder is then diffed whole).
 */
export function narrow(base: StateFolder, changes: Record<Side, FolderChanges>, digestA: string, digestB: string): NarrowFolder | undefined {
  const da = Digest.parse(digestA);
  const db = Digest.parse(digestB);
  if (!da || !db) return undefined;
  const touchedKeys = new Set<string>();
  for (const side of ['a', 'b'] as const) {
    for (const e of changes[side].changed) touchedKeys.add(e.guid);
    for (const g of changes[side].gone) touchedKeys.add(g);
  }
  // In a converged folder a message has one name on both sides: its key.
  const touched = recordsFor(base, touchedKeys);
  const entries: Record<Side, MessageEntry[]> = { a: [], b: [] };
  for (const side of ['a', 'b'] as const) {
    const own = new Set([...changes[side].changed.map((e) => e.guid), ...changes[side].gone]);
    entries[side].push(...changes[side].changed);
    for (const m of touched) {
      const r = m[side];
      if (r && !own.has(r.guid)) entries[side].push(recordEntry(m, r));
    }
  }
  // What each side holds outside the touched messages is what the records say: its digest now
  // less its touched entries. The state's digests after the run add the touched records' outcome.
  for (const e of entries.a) da.remove(e);
  for (const e of entries.b) db.remove(e);
  return { base, touched, entries, digests: { a: da, b: db }, skipped: { a: changes.a.skipped, b: changes.b.skipped } };
}

/** The narrowed folder's state after the run: the saved records less the touched ones, plus `after`. */
export function narrowedState(
  n: NarrowFolder, after: StateMessage[], presence: Presence,
): StateFolder {
  const digest = (side: Side): string => {
    const d = n.digests[side].clone();
    for (const m of after) {
      const r = m[side];
      if (r) d.add(recordEntry(m, r));
    }
    return d.hex();
  };
  const converged = presence.onA && presence.onB && after.every((m) => m.a !== undefined && m.b !== undefined && sameRecord(m.a, m.b));
  return patchFolder(n.base, n.touched, after, presence, { digestA: digest('a'), digestB: digest('b'), converged });
}
