// The saved base of a pair: what both sides held after the last successful sync.
// Pure data and (de)serialisation; the runner does the file I/O.

import { createHash } from 'node:crypto';
import { digestEntries } from '../digest.js';
import type { Location, MessageEntry, Placed } from '../model.js';

export const STATE_VERSION = 1;

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
  rec[to] = { ...withoutKeywords(target, placed.dropped), guid: placed.guid };
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
    if (!r) continue;
    const entry: MessageEntry = { guid: r.guid, flags: r.flags, keywords: r.keywords, location: r.location, hash: m.hash };
    if (m.infoRest !== undefined) entry.infoRest = m.infoRest;
    out.push(entry);
  }
  return out;
}

export function sideDigest(folder: StateFolder, side: Side): string {
  return digestEntries(sideEntries(folder, side));
}

export function serializeState(state: SyncState): string {
  const body = JSON.stringify(state);
  const sum = createHash('sha256').update(body).digest('hex');
  return `{"sha256":"${sum}","state":${body}}`;
}

export type StateLoad = { kind: 'ok'; state: SyncState } | { kind: 'corrupt'; why: string };

const WRITTEN_PREFIX = /^\{"sha256":"([0-9a-f]{64})","state":/;

/** A damaged or foreign state is never trusted: the caller falls back to a first-meeting merge. */
export function parseState(text: string): StateLoad {
  // The body is hashed as stored, in the layout serializeState writes: no re-encoding.
  const written = WRITTEN_PREFIX.exec(text);
  if (!written || !text.endsWith('}')) {
    try {
      JSON.parse(text);
    } catch {
      return { kind: 'corrupt', why: 'not JSON' };
    }
    return { kind: 'corrupt', why: 'missing fields' };
  }
  const body = text.slice(written[0].length, -1);
  if (createHash('sha256').update(body).digest('hex') !== written[1]) return { kind: 'corrupt', why: 'checksum mismatch' };
  let state: unknown;
  try {
    state = JSON.parse(body);
  } catch {
    return { kind: 'corrupt', why: 'not JSON' };
  }
  if (!isObject(state)) return { kind: 'corrupt', why: 'missing fields' };
  if (state.version !== STATE_VERSION) return { kind: 'corrupt', why: `version ${String(state.version)}` };
  return { kind: 'ok', state: state as unknown as SyncState };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
