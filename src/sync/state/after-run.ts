// The state a run leaves: at a checkpoint (what is placed so far, over the old records) and at its
// end (what the plan keeps, plus what was placed). Pure: the execution gathers the inputs.

import type { NarrowFolder } from '../narrow.js';
import { narrowedState } from '../narrow.js';
import type { Plan } from '../plan.js';
import { emptyState, patchFolder, withUidValidity, type Presence, type Side, type StateFolder, type StateMessage, type SyncState } from '../state.js';

export interface AfterRun {
  ids: { idA: string; idB: string };
  /** The state the run started from (trusted or not: the records of folders found as saved). */
  old: SyncState | undefined;
  plan: Pick<Plan, 'folderPresence' | 'keep' | 'subscriptionsAfter'>;
  /** Folders the run looked at; the others keep what they had. */
  include: (name: string) => boolean;
  /** Folders unchanged on both sides: their records kept unread. */
  quiet: Set<string>;
  narrowed: Map<string, NarrowFolder>;
  /** Per folder, the records of the messages placed so far. */
  placed: Record<string, StateMessage[]>;
  /** Folders whose records became final while the run went on (sealed as their last file landed). */
  sealed: Map<string, StateFolder>;
  /** A folder new to a side, still built aside: a checkpoint leaves it out, as if not yet created. */
  unpublished: (folder: string) => boolean;
  /** Each side's UIDVALIDITY of a folder after the run (uidValidityAfter). */
  validityAfter: (folder: string) => Partial<Record<Side, number>>;
}

/**
 * Each side's UIDVALIDITY of a folder after the run: as listed, except that a backup's replica has
 * the source's wherever its uidlist was copied (`copied`).
 */
export function uidValidityAfter(listed: Record<Side, Map<string, number>>, copied: string[]): (folder: string) => Partial<Record<Side, number>> {
  return (name) => {
    const a = listed.a.get(name);
    const b = copied.includes(name) && a !== undefined ? a : listed.b.get(name);
    return { ...(a !== undefined ? { a } : {}), ...(b !== undefined ? { b } : {}) };
  };
}

const some = (v: Partial<Record<Side, number>> | undefined): v is Partial<Record<Side, number>> => v !== undefined && Object.keys(v).length > 0;

/** The state after the run (`final`) or at a checkpoint, which records only what is placed and durable so far. */
export function stateAfterRun(r: AfterRun, final: boolean): SyncState {
  const state = emptyState(r.ids.idA, r.ids.idB);
  if (!final) state.provisional = true;
  const oldFolders = r.old?.folders ?? {};
  // Folders this run did not look at keep what they had; quiet ones their records, unread.
  for (const [name, sf] of Object.entries(oldFolders)) {
    if (!r.include(name)) state.folders[name] = sf;
    else if (r.quiet.has(name)) {
      const after = r.validityAfter(name);
      state.folders[name] = final ? withUidValidity(sf, some(after) ? after : undefined) : sf;
    }
  }
  if (!final) for (const [name, sf] of Object.entries(oldFolders)) state.folders[name] ??= sf;
  const presence = final ? r.plan.folderPresence : { ...Object.fromEntries(Object.entries(oldFolders).map(([n, f]) => [n, { a: f.onA, b: f.onB }])), ...r.plan.folderPresence };
  for (const [name, where] of Object.entries(presence)) {
    if (!r.include(name) || r.quiet.has(name)) continue;
    if (!final && r.unpublished(name)) continue;
    const done = r.sealed.get(name);
    if (done) {
      state.folders[name] = done;
      continue;
    }
    const placed = r.placed[name] ?? [];
    // A checkpoint keeps the old UIDVALIDITY: its records are still partly the old ones.
    const uidValidity = final ? r.validityAfter(name) : oldFolders[name]?.uidValidity;
    const n = r.narrowed.get(name);
    if (n) {
      state.folders[name] = narrowedAfter(n, placed, final, where, final ? r.plan.keep[name] ?? [] : [], uidValidity);
      continue;
    }
    // A checkpoint keeps the old records, less those a placed record now describes.
    const superseded = new Set(placed.flatMap((m) => [m.a ? `a\0${m.a.guid}` : '', m.b ? `b\0${m.b.guid}` : '']));
    const old = (oldFolders[name]?.messages ?? []).filter((m) => !(m.a && superseded.has(`a\0${m.a.guid}`)) && !(m.b && superseded.has(`b\0${m.b.guid}`)));
    const base = final ? [...(r.plan.keep[name] ?? [])] : old;
    const sf: StateFolder = { onA: where.a, onB: where.b, messages: [...base, ...placed] };
    if (some(uidValidity)) sf.uidValidity = uidValidity;
    state.folders[name] = sf;
  }
  state.subscriptions = final ? r.plan.subscriptionsAfter : r.old?.subscriptions ?? [];
  return state;
}

/**
 * A narrowed folder after the run (final) or at a checkpoint: its saved records less those the run
 * settled, plus what it settled. A checkpoint drops only the records a placed one supersedes.
 */
function narrowedAfter(
  n: NarrowFolder, placed: StateMessage[], final: boolean, where: { a: boolean; b: boolean }, kept: StateMessage[], uidValidity: Partial<Record<Side, number>> | undefined,
): StateFolder {
  const presence: Presence = { onA: where.a, onB: where.b };
  if (some(uidValidity)) presence.uidValidity = uidValidity;
  if (final) return narrowedState(n, [...kept, ...placed], presence);
  const names = new Set(placed.flatMap((m) => [m.a?.guid, m.b?.guid]));
  const superseded = n.touched.filter((m) => (m.a && names.has(m.a.guid)) || (m.b && names.has(m.b.guid)));
  return patchFolder(n.base, superseded, placed, presence);
}
