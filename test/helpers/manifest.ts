// Builds manifests, snapshots and states in memory for the engine's unit tests (no disk).

import { digestEntries } from '../../src/digest.js';
import type { FolderManifest, Location, MessageEntry } from '../../src/model.js';
import type { SideSnapshot } from '../../src/sync/diff.js';
import type { Plan } from '../../src/sync/plan.js';
import type { Side, SideRecord, StateFolder, StateMessage, SyncState } from '../../src/sync/state.js';
import { STATE_VERSION } from '../../src/sync/state.js';

export interface EntrySpec {
  flags?: string;
  keywords?: string[];
  location?: Location;
  hash?: string;
  size?: number;
  infoRest?: string;
}

/** A manifest entry; `cur/` with no flags unless told. */
export function entry(guid: string, spec: EntrySpec = {}): MessageEntry {
  const e: MessageEntry = { guid, flags: spec.flags ?? '', keywords: spec.keywords ?? [], location: spec.location ?? 'cur' };
  if (spec.size !== undefined) e.size = spec.size;
  if (spec.infoRest !== undefined) e.infoRest = spec.infoRest;
  if (spec.hash !== undefined) e.hash = spec.hash;
  return e;
}

export function manifest(name: string, messages: MessageEntry[]): FolderManifest {
  return { name, messages, digest: digestEntries(messages) };
}

/** One side: folder name → its entries, and the subscriptions. */
export function snapshot(folders: Record<string, MessageEntry[]>, subscriptions: string[] = []): SideSnapshot {
  return { folders: new Map(Object.entries(folders).map(([name, messages]) => [name, manifest(name, messages)])), subscriptions };
}

/** A side's record in the state. */
export function rec(guid: string, spec: Omit<EntrySpec, 'hash' | 'size' | 'infoRest'> = {}): SideRecord {
  return { guid, flags: spec.flags ?? '', keywords: spec.keywords ?? [], location: spec.location ?? 'cur' };
}

export function stateMessage(hash: string, a?: SideRecord, b?: SideRecord, infoRest?: string): StateMessage {
  const m: StateMessage = { hash };
  if (infoRest !== undefined) m.infoRest = infoRest;
  if (a) m.a = a;
  if (b) m.b = b;
  return m;
}

/** The same record on both sides, as a sync leaves a message both agree on. */
export function agreed(hash: string, guid: string, spec: Omit<EntrySpec, 'hash' | 'size' | 'infoRest'> = {}): StateMessage {
  return stateMessage(hash, rec(guid, spec), rec(guid, spec));
}

export interface StateFolderSpec {
  onA?: boolean;
  onB?: boolean;
  messages: StateMessage[];
}

export function state(folders: Record<string, StateFolderSpec>, subscriptions: string[] = []): SyncState {
  const out: SyncState = { version: STATE_VERSION, idA: 'id-a', idB: 'id-b', folders: {}, subscriptions };
  for (const [name, f] of Object.entries(folders)) {
    const sf: StateFolder = { onA: f.onA ?? true, onB: f.onB ?? true, messages: f.messages };
    out.folders[name] = sf;
  }
  return out;
}

const swap = (side: Side): Side => (side === 'a' ? 'b' : 'a');

function swapMessage(m: StateMessage): StateMessage {
  return stateMessage(m.hash, m.b, m.a, m.infoRest);
}

/** The state seen from the other end: a and b exchanged. */
export function mirrorState(s: SyncState): SyncState {
  const folders: Record<string, StateFolder> = {};
  for (const [name, f] of Object.entries(s.folders)) folders[name] = { onA: f.onB, onB: f.onA, messages: f.messages.map(swapMessage) };
  return { ...s, idA: s.idB, idB: s.idA, folders };
}

/** A plan with sides a and b exchanged, every list in a canonical order, for comparing plans. */
export function mirrorPlan(p: Plan): Plan {
  return {
    mode: p.mode,
    createFolders: p.createFolders.map((f) => ({ ...f, side: swap(f.side) })),
    transfers: p.transfers.map((t) => ({ ...t, from: swap(t.from), record: swapMessage(t.record) })),
    copies: p.copies.map((c) => ({ ...c, side: swap(c.side), record: swapMessage(c.record) })),
    flagChanges: p.flagChanges.map((f) => ({ ...f, side: swap(f.side) })),
    expunges: p.expunges.map((e) => ({ ...e, side: swap(e.side) })),
    deleteFolders: p.deleteFolders.map((f) => ({ ...f, side: swap(f.side) })),
    subscriptions: { ...(p.subscriptions.b ? { a: p.subscriptions.b } : {}), ...(p.subscriptions.a ? { b: p.subscriptions.a } : {}) },
    keep: Object.fromEntries(Object.entries(p.keep).map(([k, v]) => [k, v.map(swapMessage)])),
    folderPresence: Object.fromEntries(Object.entries(p.folderPresence).map(([k, v]) => [k, { a: v.b, b: v.a }])),
    subscriptionsAfter: p.subscriptionsAfter,
    warnings: p.warnings,
  };
}

const byJson = <T>(items: T[]): T[] => [...items].sort((x, y) => {
  const jx = JSON.stringify(x);
  const jy = JSON.stringify(y);
  return jx < jy ? -1 : jx > jy ? 1 : 0;
});

/** The plan with every list sorted, so two plans compare equal whatever order the work was found in. */
export function canonicalPlan(p: Plan): Plan {
  return {
    ...p,
    createFolders: byJson(p.createFolders),
    transfers: byJson(p.transfers),
    copies: byJson(p.copies),
    flagChanges: byJson(p.flagChanges),
    expunges: byJson(p.expunges),
    deleteFolders: byJson(p.deleteFolders),
    keep: Object.fromEntries(Object.entries(p.keep).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, byJson(v)])),
  };
}

/** The state a run saves after a plan that placed nothing new (as src/sync/run.ts builds it). */
export function stateAfter(p: Plan, ids: { idA: string; idB: string } = { idA: 'id-a', idB: 'id-b' }): SyncState {
  const out: SyncState = { version: STATE_VERSION, ...ids, folders: {}, subscriptions: p.subscriptionsAfter };
  for (const [name, where] of Object.entries(p.folderPresence)) {
    out.folders[name] = { onA: where.a, onB: where.b, messages: [...(p.keep[name] ?? [])] };
  }
  return out;
}
