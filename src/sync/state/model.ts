// The saved base of a pair as plain data: what both sides held after the last successful sync,
// per folder and message, and the pure rules over those records. Stored form: stored.ts; the
// file: codec.ts.

import type { Location, MessageEntry, Placed } from '../../model.js';

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

export const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');
/** How a message names a side: the first (a) or the second (b) argument of the run. */
export const SIDE_NAME: Record<Side, string> = { a: 'first', b: 'second' };

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

export function sameRecord(x: SideRecord, y: SideRecord): boolean {
  return x.guid === y.guid && x.flags === y.flags && x.location === y.location && x.keywords.join(' ') === y.keywords.join(' ');
}

/** What identifies a record within its folder's patches: the message's name on a (else on b). */
export function recordKey(m: StateMessage): string {
  return m.a?.guid ?? m.b?.guid ?? '';
}

/** Both sides held the folder and every message under the same name and flags (computed from its records). */
export function converged(folder: StateFolder): boolean {
  if (!folder.onA || !folder.onB) return false;
  return folder.messages.every((m) => m.a !== undefined && m.b !== undefined && sameRecord(m.a, m.b));
}
