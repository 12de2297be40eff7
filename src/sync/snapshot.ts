// The snapshot phase: each side's folders now, with as little read as the saved state allows.
// A folder at its saved digest is taken from the state's records; one the state knows converged
// is asked only what changed (DESIGN §11); any other is listed whole.

import type { FolderChanges, FolderList, FolderManifest } from '../model.js';
import type { Agent } from './agent.js';
import { hashNeeds, type SideSnapshot } from './diff.js';
import type { NarrowFolder } from './narrow.js';
import type { RunStart, Scanned } from './run-types.js';
import { isConverged, sideDigest, sideEntries, type Side, type SyncState } from './state.js';

export interface Snapshot {
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

/** Both sides' snapshots, the scan's progress told as each side is done. */
export async function scan(ctx: RunStart): Promise<Scanned> {
  const { agents, options, include, only, listed } = ctx;
  let scanned = 0;
  const sideScanned = (snap: Snapshot): Snapshot => {
    options.onProgress?.({ phase: 'scan', done: ++scanned, total: 2 });
    return snap;
  };
  options.onProgress?.({ phase: 'scan', done: 0, total: 2 });
  // --checksum: no folder is taken as saved, nor only its changes asked for: every manifest is read.
  const told = options.checksum ? undefined : ctx.state;
  const [a, b] = await Promise.all([
    snapshot(agents.a, 'a', told, include, only, listed?.a).then(sideScanned),
    snapshot(agents.b, 'b', told, include, only, listed?.b).then(sideScanned),
  ]);
  return { ...ctx, snaps: { a, b } };
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
export function quietFolders(state: SyncState | undefined, a: Snapshot, b: Snapshot): Set<string> {
  const quiet = new Set<string>();
  if (!state) return quiet;
  for (const name of a.asSaved) {
    const sf = state.folders[name];
    if (sf && b.asSaved.has(name) && isConverged(sf)) quiet.add(name);
  }
  return quiet;
}

/** Fetches the manifests the state was to stand in for (it turned out unusable). */
export async function fetchAsSaved(agent: Agent, snap: Snapshot): Promise<void> {
  await Promise.all([...snap.asSaved].map(async (name) => {
    snap.snap.folders.set(name, await agent.manifest(name));
    snap.fetched++;
  }));
  snap.asSaved.clear();
  await fetchChanged(agent, snap, new Map());
}

/** Fetches the manifests of folders the side told only changes of, where the diff did not narrow them. */
export async function fetchChanged(agent: Agent, snap: Snapshot, narrowed: Map<string, NarrowFolder>): Promise<void> {
  await Promise.all([...snap.changes.keys()].filter((name) => !narrowed.has(name)).map(async (name) => {
    snap.snap.folders.set(name, await agent.manifest(name));
  }));
  snap.changes.clear();
}

/** The manifests of folders found as saved and not quiet (nor narrowed), rebuilt from the state's records. */
export function fillFromState(snap: Snapshot, side: Side, state: SyncState | undefined, quiet: Set<string>, narrowed: Map<string, NarrowFolder>): void {
  for (const name of snap.asSaved) {
    const sf = state?.folders[name];
    if (!sf || quiet.has(name) || narrowed.has(name)) continue;
    snap.snap.folders.set(name, { name, digest: sideDigest(sf, side), messages: sideEntries(sf, side) });
  }
}

/** Folders a side lists holding no message (and whole: new/ and cur/ there). */
export function emptyFolders(s: Snapshot): Set<string> {
  return new Set([...s.counts].filter(([name, count]) => count === 0 && !s.damaged.has(name)).map(([name]) => name));
}


/** Hashes the diff needs and the sides' manifests lack (hashNeeds), asked of the sides. */
export async function fillHashes(agents: Record<Side, Agent>, snaps: Record<Side, SideSnapshot>, input: Parameters<typeof hashNeeds>[0]): Promise<void> {
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
