// The Plan: everything a run will do, as plain data, with its summary.

import type { CopyRequest, FlagDelta, FolderManifest, Location, MtimeChange } from '../model.js';
import type { Side, StateMessage } from './state.js';

export type Mode = 'sync' | 'one-way' | 'backup';

export interface Transfer {
  from: Side;
  folder: string;
  sourceGuid: string;
  flags: string;
  keywords: string[];
  location: Location;
  infoRest?: string;
  /** The state record to save once placed: the receiving side's guid is filled from the result. */
  record: StateMessage;
}

export interface Copy {
  /** The side that copies from one of its own folders into `folder`. */
  side: Side;
  folder: string;
  request: CopyRequest;
  record: StateMessage;
}

export interface FlagChange {
  side: Side;
  folder: string;
  delta: FlagDelta;
}

export interface Expunge {
  side: Side;
  folder: string;
  guid: string;
}

/** `--checksum`: a file's mtime set to the message's arrival date as the other side holds it. */
export interface MtimeRepair {
  side: Side;
  folder: string;
  change: MtimeChange;
}

export interface FolderOp {
  side: Side;
  folder: string;
  /** Messages the folder holds now (for the folder-deletion guard). */
  messages?: number;
}

export interface Plan {
  mode: Mode;
  createFolders: FolderOp[];
  transfers: Transfer[];
  copies: Copy[];
  flagChanges: FlagChange[];
  /** Only where entries carried mtimes (`--checksum`): absent otherwise. */
  mtimes?: MtimeRepair[];
  expunges: Expunge[];
  deleteFolders: FolderOp[];
  /** New subscription lists to write, per side that needs one. */
  subscriptions: Partial<Record<Side, string[]>>;
  /** Records that hold after the run without any transfer, per folder. */
  keep: Record<string, StateMessage[]>;
  /** Which side holds each folder after the run (what the state remembers). */
  folderPresence: Record<string, Record<Side, boolean>>;
  subscriptionsAfter: string[];
  warnings: string[];
}

export interface PlanSummary {
  /** Messages copied to each side: sent, or linked to bytes it held (`links`, counted as a run makes them). */
  transfers: Record<Side, number>;
  links: Record<Side, number>;
  copies: Record<Side, number>;
  flagChanges: Record<Side, number>;
  expunges: Record<Side, number>;
  createFolders: Record<Side, number>;
  deleteFolders: Record<Side, number>;
  /** mtimes set (`--checksum`), when there are any. */
  mtimes?: Record<Side, number>;
}

export function emptyPlan(mode: Mode): Plan {
  return {
    mode, createFolders: [], transfers: [], copies: [], flagChanges: [], expunges: [], deleteFolders: [],
    subscriptions: {}, keep: {}, folderPresence: {}, subscriptionsAfter: [], warnings: [],
  };
}

const zero = (): Record<Side, number> => ({ a: 0, b: 0 });

/**
 * The expunges that finish a move: the plan copies the message from that name into another folder
 * of the same side, so its content stays on that side. A move is counted once, as a move, never as
 * an expunge, and the guards count only what leaves a side.
 */
export function movedAway(plan: Plan): Set<string> {
  const sources = new Set(plan.copies.map((c) => landedKey(c.side, c.request.fromFolder, c.request.fromGuid)));
  const out = new Set<string>();
  for (const e of plan.expunges) {
    const key = landedKey(e.side, e.folder, e.guid);
    if (sources.has(key)) out.add(key);
  }
  return out;
}

/** Whether an expunge is the end of a move (its key is in `movedAway(plan)`). */
export const isMoveSource = (moved: Set<string>, e: Expunge): boolean => moved.has(landedKey(e.side, e.folder, e.guid));

export function summarize(plan: Plan): PlanSummary {
  const s: PlanSummary = {
    transfers: zero(), links: zero(), copies: zero(), flagChanges: zero(), expunges: zero(), createFolders: zero(), deleteFolders: zero(),
  };
  const moved = movedAway(plan);
  for (const t of plan.transfers) s.transfers[t.from === 'a' ? 'b' : 'a']++;
  for (const c of plan.copies) s.copies[c.side]++;
  for (const f of plan.flagChanges) s.flagChanges[f.side]++;
  for (const e of plan.expunges) if (!isMoveSource(moved, e)) s.expunges[e.side]++;
  for (const f of plan.createFolders) s.createFolders[f.side]++;
  for (const f of plan.deleteFolders) s.deleteFolders[f.side]++;
  if (plan.mtimes?.length) {
    s.mtimes = zero();
    for (const m of plan.mtimes) s.mtimes[m.side]++;
  }
  return s;
}

export function isEmptyPlan(plan: Plan): boolean {
  const s = summarize(plan);
  return Object.values(s).every((r: Record<Side, number> | undefined) => !r || (r.a === 0 && r.b === 0)) &&
    plan.subscriptions.a === undefined && plan.subscriptions.b === undefined;
}

/** Folders where the plan places or expunges messages on the second side. */
export function replicaFolders(plan: Plan): Set<string> {
  const out = new Set<string>();
  for (const t of plan.transfers) if (t.from === 'a') out.add(t.folder);
  for (const op of [...plan.copies, ...plan.expunges]) if (op.side === 'b') out.add(op.folder);
  return out;
}

/** Per folder, the replica's names a backup replaces: expunged there and sent from the source under the same name. */
export function replacedOnReplica(plan: Plan): Map<string, Set<string>> {
  const expunged = new Set(plan.expunges.filter((x) => x.side === 'b').map((x) => `${x.folder}\0${x.guid}`));
  const out = new Map<string, Set<string>>();
  for (const t of plan.transfers) {
    if (t.from !== 'a' || !expunged.has(`${t.folder}\0${t.sourceGuid}`)) continue;
    const names = out.get(t.folder) ?? new Set<string>();
    names.add(t.sourceGuid);
    out.set(t.folder, names);
  }
  return out;
}

export const landedKey = (side: Side, folder: string, guid: string): string => `${side}\0${folder}\0${guid}`;

/** The names placements of this run landed on, or found their bytes already under: per side and folder, no key built per message. */
export class LandedNames {
  private readonly folders = { a: new Map<string, Set<string>>(), b: new Map<string, Set<string>>() };
  private count = 0;

  add(side: Side, folder: string, guid: string): void {
    let names = this.folders[side].get(folder);
    if (!names) this.folders[side].set(folder, (names = new Set()));
    if (!names.has(guid)) this.count++;
    names.add(guid);
  }

  has(side: Side, folder: string, guid: string): boolean {
    return this.folders[side].get(folder)?.has(guid) === true;
  }

  get size(): number {
    return this.count;
  }
}

/**
 * The expunges to make once every placement is done: none of a name a placement landed on. A
 * transfer onto a name that held its bytes already, or a copy onto its own source, leaves the
 * message's only copy on that side under that name (a replica's file put back by rsync after a
 * collision): expunged, it would be lost.
 */
export function expungesAfterPlacing(expunges: Expunge[], landed: LandedNames): Expunge[] {
  return landed.size === 0 ? expunges : expunges.filter((x) => !landed.has(x.side, x.folder, x.guid));
}

export function countMessages(folders: Map<string, FolderManifest>): number {
  let n = 0;
  for (const f of folders.values()) n += f.messages.length;
  return n;
}
