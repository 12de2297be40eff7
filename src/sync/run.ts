// Executes a sync between two Agents: snapshot, plan, guards, then the work in a safe order.

import { bodySize, isStream } from '../body.js';
import { GuardError, MdsyncError } from '../errors.js';
import type { CopyRequest, Delivery, FileDelivery, FlagResult, FolderChanges, FolderList, FolderManifest, Hello, Placed, UidlistRequest, Warning } from '../model.js';
import type { Agent } from './agent.js';
import { diff, hashNeeds, type SideSnapshot } from './diff.js';
import { applyMtimes, fillChecksums } from './checksum.js';
import { checkGuards, emptyPlan, expungesAfterPlacing, landedKey, replacedOnReplica, replicaFolders, isEmptyPlan, summarize, type MaxDelete, type Mode, type Plan, type PlanSummary, type Transfer } from './plan.js';
import { changesFrom, narrow, narrowedState, type NarrowFolder } from './narrow.js';
import { inTwoLanes } from './lanes.js';
import { withSourceMtimes } from './move-mtimes.js';
import { copiedNextUid, replicaUidValidity, replicaUids, replicaUidsCurrent, withReplaced } from './replica-uidvalidity.js';
import { placementLog, type PlacementJournal } from './journal.js';
import { recoverPlacements } from './recover-placements.js';
import { Twins, type Link } from './twins.js';
import { firstCopyPasses, PASS_MESSAGES, PASSES_FROM, resumedCopyPasses, type FirstCopy, type SavedCounts } from './passes.js';
import { orientState } from './state-sides.js';
import { compactFolder, emptyState, isConverged, notePlaced, patchFolder, readRecords, sealedFolder, StateDamagedError, sideCount, sideDigest, sideEntries, withUidValidity, withoutKeywords, type Presence, type Side, type StateFolder, type StateMessage, type SyncState } from './state.js';

export interface RunOptions {
  mode: Mode;
  dryRun?: boolean;
  force?: boolean;
  maxDelete?: MaxDelete;
  /** Folders outside it are neither read nor touched, and their state is kept as it was. */
  includeFolder?: (name: string) => boolean;
  jobs?: number;
  /** Least time between two checkpoints (CHECKPOINT_MS unless set). */
  checkpointMs?: number;
  /** Messages from which a first copy goes in passes (PASSES_FROM unless set); each side keeps the listings of as many as it sums them up. */
  passesFrom?: number;
  /** Messages a pass gathers (PASS_MESSAGES unless set). */
  passMessages?: number;
  /**
   * Sides the caller locked before the run (the CLI locks the first before it opens the second,
   * which it may create): not locked again, and released with the other.
   */
  lockedBefore?: Side[];
  /** Each side's identity as the state keys it (hello's id unless given). */
  sideIds?: Record<Side, string>;
  loadState(): Promise<{ state?: SyncState; problem?: string }>;
  saveState(state: SyncState): Promise<void>;
  /** Where each batch's records are kept while its files are placed, for a run killed before it saves them. */
  journal?: PlacementJournal;
  onProgress?(event: ProgressEvent): void;
  /**
   * Whether the result's plan lists every operation of a first copy made in passes (default
   * true); without it such a run lets go of each pass's plan, and only the summary counts them.
   */
  keepPlan?: boolean;
  /**
   * `--checksum`: every folder both sides hold is compared by content and mtime, not trusted by
   * name and digest (no folder skipped as unchanged), and every difference verify would report repaired.
   */
  checksum?: boolean;
}

/**
 * Where a run is: `scan` the sides' folders (done/total: sides), `compare` them into a plan,
 * `transfer` copies and moves, `flags` and `expunge` (done/total: messages), then `done`.
 */
export interface ProgressEvent {
  phase: 'scan' | 'compare' | 'transfer' | 'flags' | 'expunge' | 'done';
  done: number;
  total: number;
  /** Message bytes copied so far (transfer). */
  bytes?: number;
}

export interface RunResult {
  plan: Plan;
  summary: PlanSummary;
  warnings: Warning[];
  /** Folders left out of this run because a side could not read them (exit 1); both copies left as they are. */
  failed: Warning[];
  /** A side changed during the run (exit 2: run again). */
  raced: boolean;
  bytes: number;
  vanished: number;
  stateTrusted: boolean;
  /** A first copy made a few folders at a time: how many passes. */
  passes?: number;
  /** The copy in passes was of folders new to a side, after those the state knows or both sides hold mail in (resumedCopyPasses). */
  resumedCopy?: boolean;
  /** Both sides held mail and no saved state of the pair was trusted: merged as a first meeting. */
  firstMeeting?: boolean;
  /** A dry run's plan that a guard would refuse (exit 3), with the guard's error. */
  refused?: GuardError;
}

const BATCH_MESSAGES = 128;
const BATCH_BYTES = 8 * 1024 * 1024;
/** Least time between two checkpoints, unless RunOptions.checkpointMs says otherwise. */
const CHECKPOINT_MS = 5_000;
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

interface Snapshot {
  snap: SideSnapshot;
  /** Folders whose manifest had to be fetched (changed since the state). */
  fetched: number;
  /** Folders whose digest equals the state's: their manifest is the state's records, built only if needed. */
  asSaved: Set<string>;
  /** Messages per folder, as the side counted them. */
  counts: Map<string, number>;
  /** Per folder: the digest of its manifest. */
  digests: Map<string, string>;
  /** Folders the side told only what changed in since the state's digest (no manifest fetched). */
  changes: Map<string, FolderChanges>;
  /** Per folder: digestUids of its dovecot-uidlist. */
  uids: Map<string, string>;
  /** Per folder: its UIDVALIDITY, where it has a dovecot-uidlist. */
  uidValidity: Map<string, number>;
  /** Folders whose cur/ or new/ is missing, and what is missing. */
  damaged: Map<string, string>;
  /** Folders this side cannot read, and why. */
  unreadable: Map<string, string>;
}

async function snapshot(
  agent: Agent, side: Side, state: SyncState | undefined, include: (n: string) => boolean, only?: string[], listed?: FolderList,
): Promise<Snapshot> {
  const list = listed ?? await agent.listFolders(only && { folders: only });
  const uids = new Map(list.folders.filter((f) => include(f.name)).map((f) => [f.name, f.uids]));
  const uidValidity = new Map<string, number>();
  const damaged = new Map<string, string>();
  const unreadable = new Map<string, string>();
  const counts = new Map<string, number>();
  const digests = new Map<string, string>();
  for (const f of list.folders) {
    if (!include(f.name)) continue;
    counts.set(f.name, f.messages);
    digests.set(f.name, f.digest);
    if (f.uidValidity !== undefined) uidValidity.set(f.name, f.uidValidity);
    if (f.damaged !== undefined) damaged.set(f.name, f.damaged);
    if (f.unreadable !== undefined) unreadable.set(f.name, f.unreadable);
  }
  const folders = new Map<string, FolderManifest>();
  const asSaved = new Set<string>();
  const changes = new Map<string, FolderChanges>();
  let fetched = 0;
  await Promise.all(list.folders.filter((f) => include(f.name) && f.unreadable === undefined).map(async (summary) => {
    const sf = state?.folders[summary.name];
    if (sf && (side === 'a' ? sf.onA : sf.onB) && sideDigest(sf, side) === summary.digest) {
      // Unchanged since the last sync: the state already holds this manifest (hashes included).
      asSaved.add(summary.name);
      return;
    }
    fetched++;
    if (sf && agent.changes && sf.onA && sf.onB && isConverged(sf)) {
      // A folder the diff will likely narrow: what changed is enough, when the side can tell.
      const got = await agent.changes(summary.name, sideDigest(sf, side));
      if (got) {
        changes.set(summary.name, got);
        return;
      }
    }
    folders.set(summary.name, await agent.manifest(summary.name));
  }));
  const partial = new Set(list.folders.filter((f) => f.partial === true && include(f.name)).map((f) => f.name));
  return { snap: { folders, subscriptions: list.subscriptions, partial }, fetched, asSaved, changes, counts, digests, uids, uidValidity, damaged, unreadable };
}

/**
 * Folders unchanged on both sides since a sync that left them converged: nothing to plan there in
 * any mode, so neither their manifests nor their saved records are read (DESIGN §11).
 */
function quietFolders(state: SyncState | undefined, a: Snapshot, b: Snapshot): Set<string> {
  const quiet = new Set<string>();
  if (!state) return quiet;
  for (const name of a.asSaved) {
    const sf = state.folders[name];
    if (sf && b.asSaved.has(name) && isConverged(sf)) quiet.add(name);
  }
  return quiet;
}

/** Fetches the manifests the state was to stand in for (it turned out unusable). */
async function fetchAsSaved(agent: Agent, snap: Snapshot): Promise<void> {
  await Promise.all([...snap.asSaved].map(async (name) => {
    snap.snap.folders.set(name, await agent.manifest(name));
    snap.fetched++;
  }));
  snap.asSaved.clear();
  await fetchChanged(agent, snap, new Map());
}

/** Fetches the manifests of folders the side told only changes of, where the diff did not narrow them. */
async function fetchChanged(agent: Agent, snap: Snapshot, narrowed: Map<string, NarrowFolder>): Promise<void> {
  await Promise.all([...snap.changes.keys()].filter((name) => !narrowed.has(name)).map(async (name) => {
    snap.snap.folders.set(name, await agent.manifest(name));
  }));
  snap.changes.clear();
}

/** The manifests of folders found as saved and not quiet (nor narrowed), rebuilt from the state's records. */
function fillFromState(snap: Snapshot, side: Side, state: SyncState | undefined, quiet: Set<string>, narrowed: Map<string, NarrowFolder>): void {
  for (const name of snap.asSaved) {
    const sf = state?.folders[name];
    if (!sf || quiet.has(name) || narrowed.has(name)) continue;
    snap.snap.folders.set(name, { name, digest: sideDigest(sf, side), messages: sideEntries(sf, side) });
  }
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
function narrowedInput(state: SyncState, narrowed: Map<string, NarrowFolder>): SyncState {
  if (narrowed.size === 0) return state;
  const folders: Record<string, StateFolder> = { ...state.folders };
  for (const [name, n] of narrowed) {
    const sf: StateFolder = { onA: n.base.onA, onB: n.base.onB, messages: n.touched };
    if (n.base.uidValidity !== undefined) sf.uidValidity = n.base.uidValidity;
    folders[name] = sf;
  }
  return { ...state, folders };
}

const SIDE_NAME: Record<Side, string> = { a: 'first', b: 'second' };

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
function uidValidityMoved(state: SyncState, now: Record<Side, Map<string, number>>): boolean {
  for (const [folder, sf] of Object.entries(state.folders)) {
    for (const side of ['a', 'b'] as const) {
      const held = side === 'a' ? sf.onA : sf.onB;
      if (held && sf.uidValidity?.[side] !== now[side].get(folder)) return true;
    }
  }
  return false;
}

/**
 * Folders whose dovecot-uidlist a backup must give the replica: the source has one, and the
 * replica says otherwise, or the plan places or expunges there (a collision's fresh name must get
 * its UID in this run, not the next).
 */
function uidsToCopy(mode: Mode, sa: Snapshot, sb: Snapshot, state: SyncState | undefined, plan: Plan): string[] {
  if (mode !== 'backup') return [];
  const written = replicaFolders(plan);
  return [...sa.uids].filter(([name, uids]) => Boolean(uids) && (written.has(name) || !replicaUidsCurrent(
    { a: uids, b: sb.uids.get(name) }, { a: sa.uidValidity.get(name), b: sb.uidValidity.get(name) }, state?.folders[name]?.uidValidity,
  ))).map(([name]) => name);
}

/**
 * A backup's replica gets the source's UIDVALIDITY, NEXTUID and UIDs, so IMAP clients see the
 * same mailbox (DESIGN §4). Messages are paired through the state: names may differ on b. Where
 * that would give a UID the replica handed out to another message, the folder gets a UIDVALIDITY
 * of its own (replica-uidvalidity.ts), returned with a warning to record in the state.
 */
async function copyUids(
  agents: Record<Side, Agent>, folders: string[], state: SyncState, saved: SyncState | undefined, listedB: Map<string, number>, warnings: Warning[],
  replaced: Map<string, Set<string>> = new Map(),
): Promise<Map<string, number>> {
  const own = new Map<string, number>();
  for (const name of folders) {
    const sf = state.folders[name];
    if (!sf?.onA || !sf.onB) continue;
    const manifest = await agents.a.manifest(name);
    if (manifest.uidValidity === undefined || manifest.nextUid === undefined) continue;
    const toB = new Map<string, string>();
    for (const m of sf.messages) if (m.a && m.b) toB.set(m.a.guid, m.b.guid);
    const uids: [string, number, string | null][] = [];
    for (const e of manifest.messages) {
      const onB = toB.get(e.guid);
      // Dovecot's GUID of a message is its base name unless the uidlist says otherwise: the replica
      // says otherwise wherever its name is not the source's GUID.
      const dovecotGuid = e.dovecotGuid ?? e.guid;
      if (e.uid !== undefined && onB !== undefined) uids.push([onB, e.uid, dovecotGuid === onB ? null : dovecotGuid]);
    }
    const request: UidlistRequest = { uidValidity: manifest.uidValidity, nextUid: manifest.nextUid, uids };
    request.nextUid = copiedNextUid(manifest.messages.flatMap((e) => e.uid !== undefined ? [e.uid] : []), request);
    if (manifest.mailboxGuid !== undefined) request.mailboxGuid = manifest.mailboxGuid;
    // A replica without a uidlist (a first copy) gave no UID: its listing need not cross again.
    const listed = listedB.has(name) ? replicaUids(await agents.b.manifest(name)) : { uids: new Map<number, string>() };
    const replica = withReplaced(listed, request, replaced.get(name) ?? new Set());
    const choice = replicaUidValidity(request, replica, saved?.folders[name]?.uidValidity, Math.floor(Date.now() / 1000));
    if (choice.renewed) {
      const { from, uid } = choice.renewed;
      warnings.push({ folder: name, message: `the replica gave UID ${uid} under UIDVALIDITY ${from} to another message than the source's: the replica's UIDVALIDITY is now ${choice.uidValidity} (its IMAP clients fetch the folder anew)` });
    }
    if (choice.uidValidity !== request.uidValidity) own.set(name, choice.uidValidity);
    request.uidValidity = choice.uidValidity;
    await agents.b.writeUidlist(name, request);
  }
  return own;
}

async function fillHashes(agents: Record<Side, Agent>, snaps: Record<Side, SideSnapshot>, input: Parameters<typeof hashNeeds>[0]): Promise<void> {
  await Promise.all(hashNeeds(input).map(async ({ side, folder, guids }) => {
    const hashes = await agents[side].hash(folder, guids);
    const byGuid = new Map((snaps[side].folders.get(folder)?.messages ?? []).map((e) => [e.guid, e]));
    guids.forEach((g, i) => {
      const h = hashes[i];
      const e = byGuid.get(g);
      if (e && h) e.hash = h;
    });
  }));
}

export async function runSync(a: Agent, b: Agent, options: RunOptions): Promise<RunResult> {
  const agents: Record<Side, Agent> = { a, b };
  const include = options.includeFolder ?? (() => true);
  const hellos = await Promise.all([a.hello(), b.hello()]);
  // The ids the state holds and compares are the caller's (a far side's qualified by its host).
  const [helloA, helloB] = options.sideIds ? [{ ...hellos[0], id: options.sideIds.a }, { ...hellos[1], id: options.sideIds.b }] : hellos;
  const locked: Agent[] = [];
  try {
    if (!options.dryRun) {
      for (const side of ['a', 'b'] as const) {
        if (!options.lockedBefore?.includes(side)) await agents[side].lock();
        locked.push(agents[side]);
      }
    }
    // A state saved by a run that named the sides the other way round is used turned round.
    const saved = await options.loadState();
    const orientedState = saved.state && orientState(saved.state, helloA.id, helloB.id);
    const oriented = !saved.state || orientedState ? { ...saved, state: orientedState }
      : { ...saved, state: undefined, problem: 'the saved state cannot tell the two sides apart (both have one identity)' };
    const loaded = await recoverPlacements(agents, helloA, helloB, oriented, options.journal, include, options.dryRun ?? false);
    const once: RunOptions = { ...options, loadState: async () => loaded };
    const state = loaded.state;
    // This may be a first copy (into an empty side, or of folders new to a side), which goes in
    // passes: each side lets go of its folders' listings as it sums them up beyond a budget, and
    // loads each again in its pass. A state made with other Maildirs is not used.
    const size = options.passMessages ?? PASS_MESSAGES;
    const from = options.passesFrom ?? PASSES_FROM;
    const lists = options.dryRun || loaded.problem || (state && (state.idA !== helloA.id || state.idB !== helloB.id))
      ? undefined
      : await Promise.all([a.listFolders({ release: { keep: from } }), b.listFolders({ release: { keep: from } })]);
    const listed = lists && { a: lists[0], b: lists[1] };
    // With no state: into an empty side, or (a first copy stopped before it saved one) the
    // folders only one side holds mail in, after those both do.
    const firstCopy = listed && (state
      ? resumedCopyPasses(options.mode, listed, savedCounts(state), include, size, from)
      : firstCopyPasses(options.mode, listed, include, size, from) ?? resumedCopyPasses(options.mode, listed, new Map(), include, size, from));
    if (firstCopy) return await runInPasses(agents, helloA, helloB, include, once, firstCopy);
    return await runLocked(agents, helloA, helloB, include, once, undefined, listed);
  } finally {
    for (const agent of locked.reverse()) await agent.unlock().catch(() => undefined);
  }
}

/** Each side's messages per folder, as the state says (its folder summaries: no record read). */
function savedCounts(state: SyncState): SavedCounts {
  return new Map(Object.entries(state.folders).map(([name, sf]) => [name, {
    ...(sf.onA ? { a: sideCount(sf, 'a') } : {}),
    ...(sf.onB ? { b: sideCount(sf, 'b') } : {}),
  }]));
}

/**
 * `only`: the folders of a pass (runInPasses), the only ones `include` takes, and `wholeTotals`
 * the messages of all the run's folders, which its guards count against. `listed`: both sides'
 * folder lists, taken a moment ago under the lock (not listed again).
 */
async function runLocked(
  agents: Record<Side, Agent>, helloA: Hello, helloB: Hello, include: (n: string) => boolean, options: RunOptions,
  only?: string[], listed?: Record<Side, FolderList>, wholeTotals?: Record<Side, number>,
): Promise<RunResult> {
  const warnings: Warning[] = [];
  const failed: Warning[] = [];
  const loaded = await options.loadState();
  let state = loaded.state;
  if (loaded.problem) warnings.push({ message: `${loaded.problem}: merging as a first meeting (nothing expunged)` });
  if (state && (state.idA !== helloA.id || state.idB !== helloB.id)) {
    warnings.push({ message: 'a side is not the Maildir the saved state was made with (moved, restored or re-created): merging as a first meeting (nothing expunged)' });
    state = undefined;
  }
  let scanned = 0;
  const sideScanned = <T>(snap: T): T => {
    options.onProgress?.({ phase: 'scan', done: ++scanned, total: 2 });
    return snap;
  };
  options.onProgress?.({ phase: 'scan', done: 0, total: 2 });
  // --checksum: no folder is taken as saved, nor only its changes asked for: every manifest is read.
  const told = options.checksum ? undefined : state;
  const [sa, sb] = await Promise.all([
    snapshot(agents.a, 'a', told, include, only, listed?.a).then(sideScanned),
    snapshot(agents.b, 'b', told, include, only, listed?.b).then(sideScanned),
  ]);
  options.onProgress?.({ phase: 'compare', done: 0, total: 0 });
  const snaps = { a: sa.snap, b: sb.snap };
  const validity = { a: sa.uidValidity, b: sb.uidValidity };
  const { skipped, untrusted } = distrust(options.mode, state && filterState(state, include), { a: sa, b: sb }, warnings, failed);
  const included = (name: string): boolean => include(name) && !skipped.has(name);
  let trusted = state ? filterState(state, included) : undefined;
  if (trusted && untrusted.size > 0) trusted = withoutFolders(trusted, untrusted);
  let quiet = quietFolders(trusted, sa, sb);
  for (const snap of [sa, sb]) for (const folder of skipped) snap.snap.folders.delete(folder);
  const read = trusted ? readAndNarrow(trusted, quiet, skipped, { a: sa, b: sb }, !options.checksum) : { narrowed: new Map<string, NarrowFolder>() };
  const narrowed = 'narrowed' in read ? read.narrowed : new Map<string, NarrowFolder>();
  if ('damage' in read) {
    // Found only now (records are read on first use): the same fallback as a damaged file.
    warnings.push({ message: `saved state is unusable (${read.damage}): merging as a first meeting (nothing expunged)` });
    trusted = undefined;
    state = undefined;
    quiet = new Set();
    await Promise.all([fetchAsSaved(agents.a, sa), fetchAsSaved(agents.b, sb)]);
  } else {
    applyNarrowing(narrowed, { a: sa, b: sb });
  }
  await Promise.all([fetchChanged(agents.a, sa, narrowed), fetchChanged(agents.b, sb, narrowed)]);
  for (const [side, snap] of [['a', sa], ['b', sb]] as const) {
    // Whether trusted or not, the saved records describe a folder found at its saved digest.
    fillFromState(snap, side, state, quiet, narrowed);
    for (const folder of skipped) snap.snap.folders.delete(folder);
  }
  const input = { mode: options.mode, a: snaps.a, b: snaps.b, state: trusted && narrowedInput(withoutFolders(trusted, quiet), narrowed) };
  if (options.checksum) await fillChecksums(agents, snaps);
  await fillHashes(agents, snaps, input);
  const plan = diff(input);
  const totals = { a: 0, b: 0 };
  for (const side of ['a', 'b'] as const) {
    for (const name of snaps[side].folders.keys()) totals[side] += (side === 'a' ? sa : sb).counts.get(name) ?? 0;
    for (const name of quiet) totals[side] += (side === 'a' ? sa : sb).counts.get(name) ?? 0;
  }
  // Counted from any readable saved state, trusted or not: an unmounted mount point is a different
  // directory (another identity) and must still be recognised as a side that used to hold mail.
  const counted = loaded.state ? filterState(loaded.state, included) : undefined;
  let stateTotals: Record<Side, number> | undefined;
  if (counted) {
    stateTotals = { a: 0, b: 0 };
    for (const sf of Object.values(counted.folders)) {
      stateTotals.a += sideCount(sf, 'a');
      stateTotals.b += sideCount(sf, 'b');
    }
  }
  // A side that is another directory now and holds a small part of what it held is unmounted too.
  const identityChanged = loaded.state && { a: loaded.state.idA !== helloA.id, b: loaded.state.idB !== helloB.id };
  const roots = { a: helloA.root, b: helloB.root };
  let refused: GuardError | undefined;
  try {
    checkGuards(plan, { force: options.force ?? false, maxDelete: options.maxDelete, totals: wholeTotals ?? totals, stateTotals, identityChanged, roots });
  } catch (err) {
    if (!(err instanceof GuardError)) throw err;
    // A refusal says what the plan would have done (--json prints its counts); a dry run shows
    // the plan a guard would refuse, and which guard: that is what it is for.
    err.summary = summarize(plan);
    if (!options.dryRun) throw err;
    refused = err;
  }
  const whole = wholeTotals ?? totals;
  // Said every time: a state lost or never found makes moves since the last run copies, and undoes
  // expunges (a backup makes its replica exact whatever it finds).
  const firstMeeting = options.mode !== 'backup' && trusted === undefined && whole.a > 0 && whole.b > 0;
  if (firstMeeting && !loaded.state && !loaded.problem) {
    warnings.push({ message: 'first meeting of these two Maildirs (no saved state for the pair): merging both, nothing expunged; a message moved or expunged on one side since they last met comes back' });
  }
  const result: RunResult = { plan, summary: summarize(plan), warnings, failed, raced: false, bytes: 0, vanished: 0, stateTrusted: trusted !== undefined, firstMeeting };
  if (refused) result.refused = refused;
  if (options.dryRun) {
    await collectWarnings(agents, result, options.mode);
    return result;
  }
  // Nothing to do and nothing new learnt: the saved state is already exact, leave it be.
  const learnt = sa.fetched + sb.fetched > 0 || trusted === undefined || untrusted.size > 0 || uidValidityMoved(trusted, validity);
  const uidFolders = uidsToCopy(options.mode, sa, sb, trusted, plan).filter(included);
  if (isEmptyPlan(plan) && !learnt && uidFolders.length === 0) {
    await collectWarnings(agents, result, options.mode);
    return result;
  }
  const empty = { a: emptyFolders(sa), b: emptyFolders(sb) };
  await execute(agents, plan, state, helloA, helloB, included, quiet, narrowed, options, result, uidFolders, validity, empty);
  return result;
}

/**
 * A first copy into a side holding no message, or of folders new to a side (a first copy run again
 * after a stop: its first pass all the folders the state knows or both sides hold mail in), a few
 * folders at a time: each pass is a whole run over its folders (plan, copy, records), after
 * which both sides let go of them. A first copy then holds a pass's messages at once, not all of
 * them (1 000 000 messages in one pass: 1.95 GB at its peak; in passes: 1.2 GB, nearly all of it
 * the packed listings and encoded records). Between passes the state is saved as checkpoints
 * are (every few seconds): what a killed run copied and no saved state names is met by content in
 * the next run, never copied twice.
 */
async function runInPasses(agents: Record<Side, Agent>, helloA: Hello, helloB: Hello, include: (n: string) => boolean, options: RunOptions, firstCopy: FirstCopy): Promise<RunResult> {
  const { passes, messages, resumed } = firstCopy;
  const keepPlan = options.keepPlan ?? true;
  const merged: RunResult = {
    plan: emptyPlan(options.mode), summary: summarize(emptyPlan(options.mode)), warnings: [], failed: [], raced: false, bytes: 0, vanished: 0, stateTrusted: false,
    passes: passes.length,
    ...(resumed ? { resumedCopy: true } : {}),
  };
  let current = await options.loadState();
  let unsaved: SyncState | undefined;
  let lastSave = Date.now();
  let copied = 0;
  // A resumed copy's first pass copies what it finds to copy (a folder cut off halfway) besides.
  let total = messages;
  const done: string[] = [];
  try {
    for (const [i, pass] of passes.entries()) {
      const inPass = new Set(pass);
      const last = i === passes.length - 1;
      const result = await runLocked(agents, helloA, helloB, (n) => inPass.has(n) && include(n), {
        ...options,
        loadState: async () => current,
        saveState: async (state) => {
          current = { state };
          unsaved = state;
          if (!last && Date.now() - lastSave < (options.checkpointMs ?? CHECKPOINT_MS)) return;
          await options.saveState(state);
          unsaved = undefined;
          lastSave = Date.now();
        },
        onProgress: (e) => {
          if (e.phase === 'transfer') {
            options.onProgress?.({ phase: 'transfer', done: copied + e.done, total: resumed && i === 0 ? total + e.total : total, bytes: merged.bytes + (e.bytes ?? 0) });
          } else if (e.phase === 'flags' || e.phase === 'expunge' || (i === 0 && e.phase !== 'done')) options.onProgress?.(e);
        },
      }, pass, undefined, firstCopy.totals);
      const state = current.state;
      if (state) for (const name of pass) if (state.folders[name]) state.folders[name] = compactFolder(state.folders[name] as StateFolder, name);
      const copiedNow = result.summary.transfers.a + result.summary.transfers.b;
      copied += copiedNow;
      if (resumed && i === 0) total += copiedNow;
      // Whether the saved state was trusted is the first pass's to say: the others' is the passes'.
      if (i === 0) {
        merged.stateTrusted = result.stateTrusted;
        merged.firstMeeting = result.firstMeeting;
      }
      addPass(merged, result, keepPlan);
      // Each time all passes so far: a folder written a moment ago is let go of once it has settled.
      done.push(...pass);
      await Promise.all([agents.a.release?.(done), agents.b.release?.(done)]);
    }
  } catch (err) {
    // A pass that failed: the passes before it copied what their state, kept in memory, records.
    if (unsaved) await options.saveState(unsaved).catch(() => undefined);
    throw err;
  }
  // A last pass with nothing to write saves nothing: the state of the passes before it, kept in
  // memory between checkpoints, is saved now.
  if (unsaved) await options.saveState(unsaved);
  options.onProgress?.({ phase: 'done', done: copied, total, bytes: merged.bytes });
  return merged;
}

/**
 * A saved state's records folder by folder, each read when asked for (twins.ts looks hashes up in
 * them): all its folders, those of other passes and left out by -f too (a link is to bytes only).
 */
function* savedRecords(state: SyncState | undefined): Iterable<[string, () => StateMessage[]]> {
  for (const [name, sf] of Object.entries(state?.folders ?? {})) yield [name, () => sf.messages];
}

/** A pass's result into the whole run's. */
function addPass(into: RunResult, pass: RunResult, keepPlan: boolean): void {
  for (const key of Object.keys(pass.summary) as (keyof PlanSummary)[]) {
    const from = pass.summary[key];
    if (!from) continue;
    const to = (into.summary[key] ??= { a: 0, b: 0 });
    to.a += from.a;
    to.b += from.b;
  }
  into.warnings.push(...pass.warnings);
  into.failed.push(...pass.failed);
  into.raced ||= pass.raced;
  into.bytes += pass.bytes;
  into.vanished += pass.vanished;
  const plan = into.plan;
  const p = pass.plan;
  plan.subscriptions = { ...plan.subscriptions, ...p.subscriptions };
  plan.subscriptionsAfter = p.subscriptionsAfter;
  plan.warnings.push(...p.warnings);
  if (!keepPlan) return;
  // concat, not push(...): a pass may hold more operations than a call takes arguments.
  plan.createFolders = plan.createFolders.concat(p.createFolders);
  plan.transfers = plan.transfers.concat(p.transfers);
  plan.copies = plan.copies.concat(p.copies);
  plan.flagChanges = plan.flagChanges.concat(p.flagChanges);
  if (p.mtimes) plan.mtimes = (plan.mtimes ?? []).concat(p.mtimes);
  plan.expunges = plan.expunges.concat(p.expunges);
  plan.deleteFolders = plan.deleteFolders.concat(p.deleteFolders);
  Object.assign(plan.keep, p.keep);
  Object.assign(plan.folderPresence, p.folderPresence);
}

function filterState(state: SyncState, include: (n: string) => boolean): SyncState {
  const folders: Record<string, StateFolder> = {};
  for (const [name, sf] of Object.entries(state.folders)) if (include(name)) folders[name] = sf;
  return { ...state, folders };
}

function withoutFolders(state: SyncState, drop: Set<string>): SyncState {
  return filterState(state, (name) => !drop.has(name));
}

async function collectWarnings(agents: Record<Side, Agent>, result: RunResult, mode: Mode): Promise<void> {
  for (const side of ['a', 'b'] as const) {
    const { warnings, raced, changed } = await agents[side].drainWarnings();
    for (const w of warnings) result.warnings.push({ ...w, message: `${side === 'a' ? 'first' : 'second'} side: ${w.message}` });
    if (raced) result.raced = true;
    // Only a side the run reads from counts (a backup or one-way run does not take the second's changes).
    if (!changed || changed.length === 0 || (mode !== 'sync' && side === 'b')) continue;
    result.raced = true;
    const message = `changed on the ${SIDE_NAME[side]} side during the run (mail delivered, moved or flagged by another program): run again to include it`;
    for (const folder of changed) if (!result.warnings.some((w) => w.folder === folder && w.message === message)) result.warnings.push({ folder, message });
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Folders a side lists holding no message (and whole: new/ and cur/ there). */
function emptyFolders(s: Snapshot): Set<string> {
  return new Set([...s.counts].filter(([name, count]) => count === 0 && !s.damaged.has(name)).map(([name]) => name));
}

async function execute(
  agents: Record<Side, Agent>, plan: Plan, oldState: SyncState | undefined, helloA: Hello, helloB: Hello,
  include: (n: string) => boolean, quiet: Set<string>, narrowed: Map<string, NarrowFolder>, options: RunOptions, result: RunResult, uidFolders: string[],
  validity: Record<Side, Map<string, number>>, empty: Record<Side, Set<string>>,
): Promise<void> {
  // After a backup the replica's UIDVALIDITY is the source's wherever its uidlist was copied.
  const validityAfter = (name: string): Partial<Record<Side, number>> => {
    const a = validity.a.get(name);
    const b = uidFolders.includes(name) && a !== undefined ? a : validity.b.get(name);
    return { ...(a !== undefined ? { a } : {}), ...(b !== undefined ? { b } : {}) };
  };
  const placedRecords: Record<string, StateMessage[]> = {};
  const log = placementLog(options.journal, { idA: helloA.id, idB: helloB.id });
  /** Folders whose records became final while other folders' files were still being placed. */
  const sealed = new Map<string, StateFolder>();
  const buildState = (final: boolean): SyncState => {
    const state = emptyState(helloA.id, helloB.id);
    if (!final) state.provisional = true;
    // Folders this run did not look at keep what they had; quiet ones their records, unread.
    for (const [name, sf] of Object.entries(oldState?.folders ?? {})) {
      if (!include(name)) state.folders[name] = sf;
      else if (quiet.has(name)) {
        const after = validityAfter(name);
        state.folders[name] = final ? withUidValidity(sf, Object.keys(after).length > 0 ? after : undefined) : sf;
      }
    }
    if (!final && oldState) {
      for (const [name, sf] of Object.entries(oldState.folders)) state.folders[name] ??= sf;
    }
    const presence = final ? plan.folderPresence : { ...Object.fromEntries(Object.entries(oldState?.folders ?? {}).map(([n, f]) => [n, { a: f.onA, b: f.onB }])), ...plan.folderPresence };
    for (const [name, where] of Object.entries(presence)) {
      if (!include(name) || quiet.has(name)) continue;
      if (!final && isUnpublished(name)) continue;
      const done = sealed.get(name);
      if (done) {
        state.folders[name] = done;
        continue;
      }
      const placed = placedRecords[name] ?? [];
      const n = narrowed.get(name);
      if (n) {
        state.folders[name] = narrowedAfter(n, placed, final, where, final ? plan.keep[name] ?? [] : [], final ? validityAfter(name) : oldState?.folders[name]?.uidValidity);
        continue;
      }
      // A checkpoint keeps the old records, less those a placed record now describes.
      const superseded = new Set(placed.flatMap((m) => [m.a ? `a\0${m.a.guid}` : '', m.b ? `b\0${m.b.guid}` : '']));
      const old = (oldState?.folders[name]?.messages ?? []).filter((m) => !(m.a && superseded.has(`a\0${m.a.guid}`)) && !(m.b && superseded.has(`b\0${m.b.guid}`)));
      const base = final ? [...(plan.keep[name] ?? [])] : old;
      const sf: StateFolder = { onA: where.a, onB: where.b, messages: [...base, ...placed] };
      // A checkpoint keeps the old UIDVALIDITY: its records are still partly the old ones.
      const uidValidity = final ? validityAfter(name) : oldState?.folders[name]?.uidValidity;
      if (uidValidity && Object.keys(uidValidity).length > 0) sf.uidValidity = uidValidity;
      state.folders[name] = sf;
    }
    state.subscriptions = final ? plan.subscriptionsAfter : oldState?.subscriptions ?? [];
    log?.mark(state, isUnpublished);
    return state;
  };

  // A folder new to a side that the run fills is built aside there (staged) and published when
  // its last placement is made: a reader never sees it half copied, and its files skip tmp/. Until
  // then a checkpoint leaves it out, as if not yet created: no saved state names files unseen.
  const transferGroups = [...groupBy(plan.transfers, (t) => `${t.from}\0${t.folder}`).values()];
  const placementKey = (side: Side, folder: string): string => `${side}\0${folder}`;
  const placements = new Map<string, number>();
  const countPlacements = (side: Side, folder: string, n: number): void => {
    const key = placementKey(side, folder);
    placements.set(key, (placements.get(key) ?? 0) + n);
  };
  for (const group of transferGroups) countPlacements(other((group[0] as Transfer).from), (group[0] as Transfer).folder, group.length);
  for (const c of plan.copies) countPlacements(c.side, c.folder, 1);
  const unpublished = new Map<string, { side: Side; folder: string; left: number }>();
  for (const op of plan.createFolders) {
    const left = placements.get(placementKey(op.side, op.folder)) ?? 0;
    await agents[op.side].createFolder(op.folder, left > 0 ? { staged: true } : {});
    if (left > 0) unpublished.set(placementKey(op.side, op.folder), { side: op.side, folder: op.folder, left });
  }
  // So is what fills a folder that held no message (its new/ and cur/, put in place of the empty
  // ones): the INBOX of a Maildir just made, the Sent or Trash Dovecot made at a client's login.
  for (const side of ['a', 'b'] as const) {
    for (const folder of empty[side]) {
      const key = placementKey(side, folder);
      const left = placements.get(key) ?? 0;
      if (left === 0 || unpublished.has(key) || !include(folder)) continue;
      if (await agents[side].stageFolder?.(folder)) unpublished.set(key, { side, folder, left });
    }
  }
  const publish = async (key: string): Promise<void> => {
    const staged = unpublished.get(key);
    if (!staged) return;
    await log?.publishing(staged.folder, staged.side);
    await agents[staged.side].publishFolder?.(staged.folder);
    unpublished.delete(key);
  };
  const placedInto = async (side: Side, folder: string, count: number): Promise<void> => {
    const key = placementKey(side, folder);
    const staged = unpublished.get(key);
    if (!staged || staged.left <= 0) return;
    staged.left -= count;
    if (staged.left <= 0) await publish(key);
  };
  const isUnpublished = (folder: string): boolean => unpublished.has(placementKey('a', folder)) || unpublished.has(placementKey('b', folder));
  for (const side of ['a', 'b'] as const) {
    // Each side loads the folders it will write while what goes there is being read (a far side
    // would otherwise load each at its first write, the run waiting).
    const written = new Set([
      ...inTwoLanes(transferGroups.filter((g) => g[0]?.from !== side).map((g) => ({ size: g.length, tasks: [g[0]?.folder ?? ''] }))),
      ...[...plan.copies, ...plan.flagChanges, ...plan.expunges].filter((op) => op.side === side).map((op) => op.folder),
    ]);
    if (written.size > 0) void agents[side].prepare?.([...written]).catch(() => undefined);
  }

  // Loaded here, not with the module: a run with nothing to do never needs it (start-up is most
  // of a no-change run).
  const { default: PQueue } = await import('p-queue');
  const queue = new PQueue({ concurrency: Math.max(1, options.jobs ?? 4) });
  // Every task's promise is awaited, so a failure ends the run as an error, never unhandled.
  let tasks: Promise<void>[] = [];
  const add = (task: () => Promise<void>): void => { tasks.push(queue.add(task)); };
  const drain = async (): Promise<void> => {
    const pending = tasks;
    tasks = [];
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  const total = plan.transfers.length + plan.copies.length;
  let done = 0;
  const progress = (): void => options.onProgress?.({ phase: 'transfer', done, total, bytes: result.bytes });
  if (total > 0) progress();
  const landed = new Set<string>();
  const record = (folder: string, rec: StateMessage, to: Side, placed: Placed): boolean => {
    landed.add(landedKey(to, folder, placed.guid));
    if (!notePlaced(rec, to, placed)) return false;
    (placedRecords[folder] ??= []).push(rec);
    return true;
  };
  // A folder with nothing planned but placements has its final records once they are all placed:
  // it is encoded then, while the main thread would otherwise wait for the copying threads.
  const later = new Set([...plan.flagChanges, ...plan.expunges].map((op) => op.folder));
  const unplaced = new Map<string, number>();
  for (const { folder } of [...plan.transfers, ...plan.copies]) {
    if (!later.has(folder) && !narrowed.has(folder) && include(folder) && !quiet.has(folder)) unplaced.set(folder, (unplaced.get(folder) ?? 0) + 1);
  }
  const placedAll = (folder: string, count: number): void => {
    const before = unplaced.get(folder);
    if (before === undefined) return;
    if (before > count) {
      unplaced.set(folder, before - count);
      return;
    }
    unplaced.delete(folder);
    const where = plan.folderPresence[folder];
    if (!where) return;
    const uidValidity = validityAfter(folder);
    const presence: Presence = { onA: where.a, onB: where.b };
    if (Object.keys(uidValidity).length > 0) presence.uidValidity = uidValidity;
    sealed.set(folder, sealedFolder(presence, [...(plan.keep[folder] ?? []), ...(placedRecords[folder] ?? [])]));
  };

  // Checkpoints: when a folder's deliveries are all placed, make them durable and record them, so
  // a crash in a long first run loses little (at most one every few seconds, to bound the cost).
  let lastCheckpoint = Date.now();
  let checkpointing = Promise.resolve();
  const checkpoint = (): Promise<void> => {
    if (Date.now() - lastCheckpoint < (options.checkpointMs ?? CHECKPOINT_MS)) return checkpointing;
    lastCheckpoint = Date.now();
    checkpointing = checkpointing.then(async () => {
      // Snapshot first: every record in it was placed before the commit below starts.
      const state = buildState(false);
      await Promise.all([agents.a.commit(), agents.b.commit(), log?.sync()]);
      await options.saveState(state);
    });
    return checkpointing;
  };
  // Messages whose file has other names on the sending side, linked where the other side holds the bytes.
  const present = (folder: string, side: Side): boolean => {
    const planned = plan.folderPresence[folder];
    if (planned) return planned[side];
    const saved = oldState?.folders[folder];
    return saved !== undefined && (side === 'a' ? saved.onA : saved.onB);
  };
  const twins = new Twins(agents, plan.keep, savedRecords(oldState), present);
  /** Sends a batch of one folder's transfers, each recorded as placed; `twins`: linked later where it can. */
  const send = async (batch: Transfer[], linking: Twins | undefined): Promise<void> => {
    const first = batch[0] as Transfer;
    const intent = await log?.before(first.folder, other(first.from), batch.map((t) => t.record));
    const placed: StateMessage[] = [];
    const deferred = await transferBatch(agents, batch, result, (folder, rec, to, p) => {
      if (record(folder, rec, to, p)) placed.push(rec);
    }, linking?.from(first.from) ? linking : undefined);
    if (intent) await log?.after(intent, placed);
    const sent = batch.length - deferred;
    done += sent;
    progress();
    placedAll(first.folder, sent);
    await placedInto(other(first.from), first.folder, sent);
  };
  const transferTasks = transferGroups.map((group) => {
    let remaining = group.length;
    const tasks: (() => Promise<void>)[] = [];
    for (let i = 0; i < group.length; i += BATCH_MESSAGES) {
      const batch = group.slice(i, i + BATCH_MESSAGES);
      tasks.push(async () => {
        await send(batch, twins);
        remaining -= batch.length;
        if (remaining === 0) await checkpoint();
      });
    }
    return { size: group.length, tasks };
  });
  /** Links (twins.ts), once the transfers they may link to are placed; what was not linked is sent. */
  const placeLinks = async (): Promise<void> => {
    const unlinked: Transfer[] = [];
    for (const group of groupBy(twins.links, (l) => `${l.side}\0${l.folder}`).values()) {
      add(async () => {
        const { side, folder } = group[0] as Link;
        const ready: { l: Link; request: CopyRequest }[] = [];
        for (const l of group) {
          // After a transfer of this run: to the name its message got there, if it landed.
          const got = l.after ? l.after.record[side]?.guid : l.request.fromGuid;
          if (got !== undefined && (!l.after || landed.has(landedKey(side, l.after.folder, got)))) ready.push({ l, request: { ...l.request, fromGuid: got } });
          else unlinked.push(l.transfer);
        }
        const intent = ready.length > 0 ? await log?.before(folder, side, ready.map(({ l }) => l.transfer.record)) : undefined;
        const placed = ready.length > 0 ? await agents[side].copyLocal(folder, ready.map((r) => r.request)) : [];
        if (placed.length !== ready.length) throw new MdsyncError('PROTOCOL', `the ${side === 'a' ? 'first' : 'second'} side answered ${placed.length} of ${ready.length} links in ${folder}`);
        const recorded: StateMessage[] = [];
        placed.forEach((p, i) => {
          const l = (ready[i] as { l: Link }).l;
          if (p.vanished) unlinked.push(l.transfer);
          else if (record(folder, l.transfer.record, side, p)) recorded.push(l.transfer.record);
        });
        if (intent) await log?.after(intent, recorded);
        const linked = placed.filter((p) => !p.vanished).length;
        result.summary.links[side] += linked;
        done += linked;
        progress();
        placedAll(folder, linked);
        await placedInto(side, folder, linked);
      });
    }
    await drain();
    if (unlinked.length === 0) return;
    for (const group of groupBy(unlinked, (t) => `${t.from}\0${t.folder}`).values()) {
      for (let i = 0; i < group.length; i += BATCH_MESSAGES) {
        const batch = group.slice(i, i + BATCH_MESSAGES);
        add(() => send(batch, undefined));
      }
    }
    await drain();
  };
  for (const task of inTwoLanes(transferTasks)) add(task);
  for (const [, group] of groupBy(plan.copies, (c) => `${c.side}\0${c.folder}`)) {
    add(async () => {
      const first = group[0];
      if (!first) return;
      const requests = await withSourceMtimes(agents[other(first.side)], group);
      const intent = await log?.before(first.folder, first.side, group.map((c) => c.record));
      const placed = await agents[first.side].copyLocal(first.folder, requests);
      const recorded: StateMessage[] = [];
      placed.forEach((p, i) => {
        const c = group[i];
        if (!c) return;
        if (p.vanished) result.vanished++;
        else if (record(c.folder, c.record, c.side, p)) recorded.push(c.record);
      });
      if (intent) await log?.after(intent, recorded);
      done += group.length;
      progress();
      placedAll(first.folder, group.length);
      await placedInto(first.side, first.folder, group.length);
    });
  }
  try {
    await drain();
    if (twins.links.length > 0) await placeLinks();
    await checkpointing;
    for (const key of [...unpublished.keys()]) await publish(key);
  } catch (err) {
    // A run that ends here (exit 1) records what it placed, or a re-run takes it for new mail and
    // undoes the origin's expunges and moves since. The drain above let every task settle.
    // Saved only where both sides committed (a far side that died cannot say its placements are
    // durable): otherwise the journal, checked against the disk by the next run, records them.
    await checkpointing.catch(() => undefined);
    const [a, b] = await Promise.allSettled([agents.a.commit(), agents.b.commit(), log?.sync()]);
    if (a.status === 'fulfilled' && b.status === 'fulfilled') await options.saveState(buildState(false)).catch(() => undefined);
    throw err;
  }
  if (total > 0) {
    // Deliveries must be durable before anything is expunged (a move's source half) or recorded.
    await Promise.all([agents.a.commit(), agents.b.commit(), log?.sync()]);
    // Recorded before the flag changes and expunges; with none to come (a first copy) the final
    // state follows at once, and writing a whole state twice cost a first copy half a second.
    if (plan.flagChanges.length + plan.expunges.length + plan.deleteFolders.length > 0) await options.saveState(buildState(false));
  }

  const flagGroups = groupBy(plan.flagChanges, (f) => `${f.side}\0${f.folder}`);
  const flagged = { done: 0, total: plan.flagChanges.length };
  if (flagged.total > 0) options.onProgress?.({ phase: 'flags', ...flagged });
  for (const group of flagGroups.values()) {
    const first = group[0] as (typeof group)[number];
    add(async () => {
      const results = await agents[first.side].setFlags(first.folder, group.map((f) => f.delta));
      result.vanished += results.filter((r) => r.vanished).length;
      const dropped = results.filter((r) => r.dropped?.length);
      if (dropped.length > 0) forgetDropped(plan.keep[first.folder] ?? [], first.side, dropped);
      flagged.done += group.length;
      options.onProgress?.({ phase: 'flags', ...flagged });
    });
  }
  await drain();
  result.vanished += await applyMtimes(agents, plan);
  const expunges = expungesAfterPlacing(plan.expunges, landed);
  const expunged = { done: 0, total: expunges.length };
  if (expunged.total > 0) options.onProgress?.({ phase: 'expunge', ...expunged });
  for (const group of groupBy(expunges, (e) => `${e.side}\0${e.folder}`).values()) {
    const first = group[0] as (typeof group)[number];
    add(async () => {
      await agents[first.side].expunge(first.folder, group.map((e) => e.guid));
      expunged.done += group.length;
      options.onProgress?.({ phase: 'expunge', ...expunged });
    });
  }
  await drain();
  for (const op of plan.deleteFolders) await agents[op.side].deleteFolder(op.folder);
  for (const side of ['a', 'b'] as const) {
    const subs = plan.subscriptions[side];
    if (subs) await agents[side].writeSubscriptions(subs);
  }
  const final = buildState(true);
  for (const [name, uidValidity] of await copyUids(agents, uidFolders, final, oldState, validity.b, result.warnings, replacedOnReplica(plan))) {
    const sf = final.folders[name];
    if (sf) final.folders[name] = withUidValidity(sf, { ...sf.uidValidity, b: uidValidity });
  }
  await Promise.all([agents.a.commit(), agents.b.commit()]);
  await options.saveState(final);
  await collectWarnings(agents, result, options.mode);
  if (result.vanished > 0) result.raced = true;
  options.onProgress?.({ phase: 'done', done: total, total, bytes: result.bytes });
}

/**
 * A narrowed folder after the run (final) or at a checkpoint: its saved records less those the run
 * settled, plus what it settled. A checkpoint drops only the records a placed one supersedes.
 */
function narrowedAfter(
  n: NarrowFolder, placed: StateMessage[], final: boolean, where: { a: boolean; b: boolean }, kept: StateMessage[], uidValidity: Partial<Record<Side, number>> | undefined,
): StateFolder {
  const presence: Presence = { onA: where.a, onB: where.b };
  if (uidValidity && Object.keys(uidValidity).length > 0) presence.uidValidity = uidValidity;
  if (final) return narrowedState(n, [...kept, ...placed], presence);
  const names = new Set(placed.flatMap((m) => [m.a?.guid, m.b?.guid]));
  const superseded = n.touched.filter((m) => (m.a && names.has(m.a.guid)) || (m.b && names.has(m.b.guid)));
  return patchFolder(n.base, superseded, placed, presence);
}

/** The kept records of a side lose the keywords its folder could not take. */
function forgetDropped(records: StateMessage[], side: Side, results: FlagResult[]): void {
  const byGuid = new Map(results.map((r) => [r.guid, r.dropped]));
  for (const rec of records) {
    const own = rec[side];
    const dropped = own && byGuid.get(own.guid);
    if (own && dropped) rec[side] = withoutKeywords(own, dropped);
  }
}

/** Transfers a batch of one folder's messages; returns how many were left to `twins` to link (not sent). */
async function transferBatch(
  agents: Record<Side, Agent>, batch: Transfer[], result: RunResult,
  record: (folder: string, rec: StateMessage, to: Side, placed: Placed) => void, twins?: Twins,
): Promise<number> {
  const first = batch[0];
  if (!first) return 0;
  let deferred = 0;
  const from = first.from;
  const to = other(from);
  const source = agents[from];
  const target = agents[to];
  if (source.locate && target.deliverFiles) {
    // Both sides on this machine: file to file, the bytes never pass through here.
    const paths = await source.locate(first.folder, batch.map((t) => t.sourceGuid));
    let located = batch.flatMap((t, i) => (paths[i] ? [{ t, path: paths[i] as string }] : []));
    const done = new Set<Transfer>();
    const deliver = async (options: { twins?: boolean }): Promise<void> => {
      const delivered = await (target.deliverFiles as NonNullable<Agent['deliverFiles']>)(first.folder, located.map(({ t, path }) => {
        const item: FileDelivery = { guid: t.sourceGuid, path, flags: t.flags, keywords: t.keywords, location: t.location };
        if (t.infoRest !== undefined) item.infoRest = t.infoRest;
        return item;
      }), options);
      const again: typeof located = [];
      delivered.forEach((p, i) => {
        const at = located[i];
        if (!p || !at) return;
        if ('twin' in p) {
          // A file with other names: linked later, or (the first of its names) copied now.
          if (twins?.found(at.t, p.twin)) {
            done.add(at.t);
            deferred++;
          } else {
            again.push(at);
          }
          return;
        }
        done.add(at.t);
        result.bytes += p.size;
        record(first.folder, at.t.record, to, p);
      });
      located = again;
    };
    await deliver({ twins: twins !== undefined });
    if (located.length > 0) await deliver({});
    // What could not go file to file (moved meanwhile, large, a name taken) goes the usual way.
    batch = batch.filter((t) => !done.has(t));
    if (batch.length === 0) return deferred;
  }
  const bySource = new Map(batch.map((t) => [t.sourceGuid, t]));
  let pending: { t: Transfer; d: Delivery }[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    pendingBytes = 0;
    const placed = await agents[to].deliver(first.folder, items.map((p) => p.d));
    placed.forEach((p, i) => {
      const item = items[i];
      if (!item) return;
      if (!p.existed) result.bytes += bodySize(item.d.data);
      record(first.folder, item.t.record, to, p);
    });
  };
  for await (const results of agents[from].read(first.folder, batch.map((t) => t.sourceGuid))) for (const got of results) {
    const t = bySource.get(got.guid);
    if (!t) throw new MdsyncError('IO', `the ${from === 'a' ? 'first' : 'second'} side sent a message that was not asked for: ${got.guid}`);
    if (got.vanished || !got.data) {
      result.vanished++;
      continue;
    }
    if (got.inode !== undefined && got.hash !== undefined && !isStream(got.data) && twins?.found(t, { inode: got.inode, hash: got.hash, mtime: got.mtime ?? Date.now() })) {
      deferred++;
      continue;
    }
    const d: Delivery = { guid: t.sourceGuid, data: got.data, mtime: got.mtime ?? Date.now(), flags: t.flags, keywords: t.keywords, location: t.location };
    if (t.infoRest !== undefined) d.infoRest = t.infoRest;
    if (isStream(got.data)) {
      // A streamed body is consumed by its delivery before the source reads on.
      await flush();
      pending.push({ t, d });
      await flush();
      continue;
    }
    pending.push({ t, d });
    pendingBytes += got.data.length;
    if (pendingBytes >= BATCH_BYTES) await flush();
  }
  await flush();
  return deferred;
}

export { GuardError };
