// The trust phase: which saved records are evidence this run. Folders a side cannot read are left
// out; damaged ones and those whose UIDVALIDITY changed are merged as a first meeting; folders
// quiet on both sides are not looked at; converged ones are narrowed to what changed (DESIGN §8, §11).

import type { FolderChanges, Warning } from '../model.js';
import { changesFrom, narrow, type NarrowFolder } from './narrow.js';
import type { Mode } from './plan.js';
import type { Scanned, Trusted } from './run-types.js';
import { fetchAsSaved, fetchChanged, fillFromState, quietFolders, type Snapshot } from './snapshot.js';
import { isConverged, readRecords, SIDE_NAME, StateDamagedError, type Side, type StateFolder, type SyncState } from './state.js';

/** The trust phase: skipped and untrusted folders, the quiet and the narrowed, the snapshots completed. */
export async function trust(ctx: Scanned): Promise<Trusted> {
  const { agents, options, include, snaps, warnings, failed } = ctx;
  options.onProgress?.({ phase: 'compare', done: 0, total: 0 });
  let state = ctx.state;
  const { skipped, untrusted } = distrust(options.mode, state && filterState(state, include), snaps, warnings, failed);
  const included = (name: string): boolean => include(name) && !skipped.has(name);
  let trusted = state ? filterState(state, included) : undefined;
  if (trusted && untrusted.size > 0) trusted = withoutFolders(trusted, untrusted);
  let quiet = quietFolders(trusted, snaps.a, snaps.b);
  for (const snap of [snaps.a, snaps.b]) for (const folder of skipped) snap.snap.folders.delete(folder);
  const read = trusted ? readAndNarrow(trusted, quiet, skipped, snaps, !options.checksum) : { narrowed: new Map<string, NarrowFolder>() };
  const narrowed = 'narrowed' in read ? read.narrowed : new Map<string, NarrowFolder>();
  if ('damage' in read) {
    // Found only now (records are read on first use): the same fallback as a damaged file.
    warnings.push({ message: `saved state is unusable (${read.damage}): merging as a first meeting (nothing expunged)` });
    trusted = undefined;
    state = undefined;
    quiet = new Set();
    await Promise.all([fetchAsSaved(agents.a, snaps.a), fetchAsSaved(agents.b, snaps.b)]);
  } else {
    applyNarrowing(narrowed, snaps);
  }
  await Promise.all([fetchChanged(agents.a, snaps.a, narrowed), fetchChanged(agents.b, snaps.b, narrowed)]);
  for (const side of ['a', 'b'] as const) {
    // Whether trusted or not, the saved records describe a folder found at its saved digest.
    fillFromState(snaps[side], side, state, quiet, narrowed);
    for (const folder of skipped) snaps[side].snap.folders.delete(folder);
  }
  const out: Trusted = { ...ctx, skipped, untrusted, included, quiet, narrowed };
  if (state) out.state = state;
  else delete out.state;
  if (trusted) out.trusted = trusted;
  return out;
}

/**
 * Folders whose UIDVALIDITY changed on a side since the last sync. The folder was re-created or its
 * UIDs renumbered behind our back, so what the state says of it (expunges above all) is not
 * evidence: it is merged as a first meeting (DESIGN §8).
 */
function uidValidityChanges(state: SyncState, now: Record<Side, Map<string, number>>): { folder: string; message: string }[] {
  const out: { folder: string; message: string }[] = [];
  for (const [folder, sf] of Object.entries(state.folders)) {
    for (const side of ['a', 'b'] as const) {
      const then = sf.uidValidity?.[side];
      const current = now[side].get(folder);
      if (then === undefined || current === undefined || then === current) continue;
      out.push({ folder, message: `UIDVALIDITY changed on the ${SIDE_NAME[side]} side since the last sync (${then} → ${current}): merged as a first meeting, nothing expunged` });
      break;
    }
  }
  return out;
}

/**
 * Folders whose saved records are no evidence this run (reported in `warnings`). One missing cur/
 * or new/ cannot tell what it lost, one whose UIDVALIDITY changed was re-created or renumbered:
 * either is merged as a first meeting, never read as expunges. A backup leaves the replica's
 * copy of a damaged source folder alone (`skipped`) and copies UIDs whatever happened to them.
 * A folder either side cannot read is left out altogether (`skipped`, reported in `failed`).
 */
function distrust(
  mode: Mode, state: SyncState | undefined, snaps: Record<Side, Snapshot>, warnings: Warning[], failed: Warning[],
): { skipped: Set<string>; untrusted: Set<string> } {
  const skipped = new Set<string>();
  const untrusted = new Set<string>();
  for (const side of ['a', 'b'] as const) {
    for (const [folder, why] of snaps[side].unreadable) {
      if (skipped.has(folder)) continue;
      skipped.add(folder);
      failed.push({ folder, message: `${why}: not synced, both sides' copies left as they are` });
    }
  }
  // Below an unreadable folder (fs layout) a side cannot tell which subfolders it still has.
  const closed = [...skipped];
  const known = new Set([...snaps.a.snap.folders.keys(), ...snaps.b.snap.folders.keys(), ...Object.keys(state?.folders ?? {})]);
  for (const folder of known) {
    const parent = closed.find((c) => folder.startsWith(`${c}/`));
    if (parent === undefined || skipped.has(folder)) continue;
    skipped.add(folder);
    failed.push({ folder, message: `inside ${parent}, which cannot be read: not synced, both sides' copies left as they are` });
  }
  for (const side of ['a', 'b'] as const) {
    for (const [folder, what] of snaps[side].damaged) {
      if (skipped.has(folder)) continue;
      if (mode === 'backup' && side === 'a') {
        skipped.add(folder);
        warnings.push({ folder, message: `the source folder is damaged (${what}): skipped, its replica left as it is` });
      } else if (mode !== 'backup') {
        untrusted.add(folder);
        warnings.push({ folder, message: `damaged on the ${SIDE_NAME[side]} side (${what}): merged as a first meeting, nothing expunged` });
      }
    }
  }
  if (state && mode !== 'backup') {
    for (const c of uidValidityChanges(state, { a: snaps.a.uidValidity, b: snaps.b.uidValidity })) {
      if (untrusted.has(c.folder)) continue;
      untrusted.add(c.folder);
      warnings.push(c);
    }
  }
  return { skipped, untrusted };
}

/** Whether a folder's recorded UIDVALIDITY differs from what a side has now (so the state must be saved anew). */
export function uidValidityMoved(state: SyncState, now: Record<Side, Map<string, number>>): boolean {
  for (const [folder, sf] of Object.entries(state.folders)) {
    for (const side of ['a', 'b'] as const) {
      const held = side === 'a' ? sf.onA : sf.onB;
      if (held && sf.uidValidity?.[side] !== now[side].get(folder)) return true;
    }
  }
  return false;
}

const mayNarrow = (sf: StateFolder | undefined): boolean => sf !== undefined && sf.onA && sf.onB && isConverged(sf);

/**
 * Checks the saved records of the folders not quiet and narrows those it can (narrowFolders), or
 * says why the records are damaged. Folders that may narrow have only their checksums checked
 * first: their records are cut out as needed.
 */
function readAndNarrow(
  trusted: SyncState, quiet: Set<string>, skipped: Set<string>, snaps: Record<Side, Snapshot>, narrowing = true,
): { narrowed: Map<string, NarrowFolder> } | { damage: string } {
  const open = Object.keys(trusted.folders).filter((name) => !quiet.has(name));
  const damage = readRecords(trusted, open, (name) => narrowing && mayNarrow(trusted.folders[name]));
  if (damage) return { damage };
  let narrowed: Map<string, NarrowFolder>;
  try {
    narrowed = narrowing ? narrowFolders(trusted, quiet, skipped, snaps) : new Map();
  } catch (err) {
    if (err instanceof StateDamagedError) return { damage: err.message };
    throw err;
  }
  // The folders not narrowed are diffed whole: their records are read before anything is planned.
  const rest = readRecords(trusted, open.filter((name) => !narrowed.has(name)));
  return rest ? { damage: rest } : { narrowed };
}

/** The snapshots of narrowed folders hold only the touched messages' entries. */
function applyNarrowing(narrowed: Map<string, NarrowFolder>, snaps: Record<Side, Snapshot>): void {
  for (const [name, n] of narrowed) {
    for (const side of ['a', 'b'] as const) {
      const skipped = n.skipped[side];
      snaps[side].snap.folders.set(name, { name, digest: snaps[side].digests.get(name) as string, messages: n.entries[side], ...(skipped ? { skipped } : {}) });
    }
  }
}

/**
 * Folders the last sync left converged, held by both sides now and readable: the diff sees only
 * the messages either side touched since (DESIGN §11). Nothing is changed until all are narrowed
 * (a damaged record met on the way leaves the snapshots as they were).
 */
function narrowFolders(trusted: SyncState, quiet: Set<string>, skipped: Set<string>, snaps: Record<Side, Snapshot>): Map<string, NarrowFolder> {
  const out = new Map<string, NarrowFolder>();
  for (const [name, sf] of Object.entries(trusted.folders)) {
    if (quiet.has(name) || skipped.has(name) || !mayNarrow(sf)) continue;
    const digestA = snaps.a.digests.get(name);
    const digestB = snaps.b.digests.get(name);
    if (digestA === undefined || digestB === undefined) continue;
    const sideChanges = (side: Side): FolderChanges | undefined => {
      const snap = snaps[side];
      if (snap.asSaved.has(name)) return { changed: [], gone: [] };
      const told = snap.changes.get(name);
      if (told) return told;
      const manifest = snap.snap.folders.get(name);
      return manifest && changesFrom(manifest, sf.messages, side);
    };
    const a = sideChanges('a');
    const b = sideChanges('b');
    if (!a || !b) continue;
    const n = narrow(sf, { a, b }, digestA, digestB);
    if (!n) continue;
    out.set(name, n);
  }
  return out;
}

/** The state the diff sees: narrowed folders hold only their touched records. */
export function narrowedInput(state: SyncState, narrowed: Map<string, NarrowFolder>): SyncState {
  if (narrowed.size === 0) return state;
  const folders: Record<string, StateFolder> = { ...state.folders };
  for (const [name, n] of narrowed) {
    const sf: StateFolder = { onA: n.base.onA, onB: n.base.onB, messages: n.touched };
    if (n.base.uidValidity !== undefined) sf.uidValidity = n.base.uidValidity;
    folders[name] = sf;
  }
  return { ...state, folders };
}

export function filterState(state: SyncState, include: (n: string) => boolean): SyncState {
  const folders: Record<string, StateFolder> = {};
  for (const [name, sf] of Object.entries(state.folders)) if (include(name)) folders[name] = sf;
  return { ...state, folders };
}

export function withoutFolders(state: SyncState, drop: Set<string>): SyncState {
  return filterState(state, (name) => !drop.has(name));
}
