// Takes into the loaded state the records a journal left by a run that did not save them (killed),
// for the messages the receiving side holds now: a copy it made is never taken for new mail.

import type { Hello } from '../model.js';
import type { Agent } from './agent.js';
import { placementLog, type JournalEntry, type PlacementJournal } from './journal.js';
import { emptyState, other, patchFolder, StateDamagedError, type Side, type StateFolder, type StateMessage, type SyncState } from './state.js';

type Loaded = { state?: SyncState; problem?: string };

/**
 * A record is taken only where the receiving side holds the name it was placed under, with the
 * bytes the record knows of: one whose placement never happened would read as an expunge there,
 * and spread to the origin. A placement under a fresh name the journal did not get to is left to
 * the matching by content.
 */
export async function recoverPlacements(
  agents: Record<Side, Agent>, helloA: Hello, helloB: Hello, loaded: Loaded, journal: PlacementJournal | undefined, include: (name: string) => boolean, dryRun: boolean,
): Promise<Loaded> {
  if (!journal) return loaded;
  const entries = (await journal.read()).flatMap((e) => oriented(e, helloA.id, helloB.id));
  // A state unusable or of other Maildirs: the run merges as a first meeting, with nothing to add to.
  if (entries.length === 0 || loaded.problem || (loaded.state && (loaded.state.idA !== helloA.id || loaded.state.idB !== helloB.id))) return loaded;
  const log = placementLog(journal, { idA: helloA.id, idB: helloB.id });
  // Per message, the last word: placed over planned (a batch's records are journalled before and after).
  const latest = new Map<string, { entry: JournalEntry; rec: StateMessage }>();
  const kept: JournalEntry[] = [];
  for (const entry of entries) {
    if (!include(entry.folder)) {
      kept.push(entry);
      if (!dryRun) log?.keep(entry);
      continue;
    }
    for (const rec of entry.records) {
      const key = `${entry.to}\0${entry.folder}\0${rec[other(entry.to)]?.guid ?? rec[entry.to]?.guid ?? ''}`;
      const before = latest.get(key);
      if (!before || entry.placed || !before.entry.placed) latest.set(key, { entry, rec });
    }
  }
  const groups = new Map<string, { folder: string; to: Side; recs: StateMessage[] }>();
  for (const { entry, rec } of latest.values()) {
    const key = `${entry.to}\0${entry.folder}`;
    const group = groups.get(key) ?? { folder: entry.folder, to: entry.to, recs: [] };
    group.recs.push(rec);
    groups.set(key, group);
  }
  const taken = new Map<string, StateMessage[]>();
  for (const { folder, to, recs } of groups.values()) {
    const named = recs.filter((r) => r[to]);
    // A folder the side does not hold (never published, or removed since) holds none of them.
    const hashes = await agents[to].hash(folder, named.map((r) => (r[to] as { guid: string }).guid)).catch(() => named.map(() => null));
    named.forEach((rec, i) => {
      const hash = hashes[i];
      if (!hash || (rec.hash !== '' && rec.hash !== hash)) return;
      const list = taken.get(folder) ?? [];
      list.push({ ...rec, hash });
      taken.set(folder, list);
    });
  }
  if (taken.size === 0) {
    // None placed: nothing for a state to cover, and a run with nothing to do saves none.
    if (!dryRun) await journal.covered(journal.mark(kept));
    return loaded;
  }
  const state = loaded.state ?? emptyState(helloA.id, helloB.id);
  const merged: Record<string, StateFolder> = {};
  for (const [folder, recs] of taken) {
    const base = state.folders[folder] ?? { onA: false, onB: false, messages: [] };
    let messages: StateMessage[];
    try {
      messages = base.messages;
    } catch (err) {
      // Damaged records: the run finds them and merges as a first meeting.
      if (err instanceof StateDamagedError) return loaded;
      throw err;
    }
    const names = { a: new Set(recs.flatMap((r) => (r.a ? [r.a.guid] : []))), b: new Set(recs.flatMap((r) => (r.b ? [r.b.guid] : []))) };
    const dropped = messages.filter((m) => (m.a && names.a.has(m.a.guid)) || (m.b && names.b.has(m.b.guid)));
    // Saved without digests: both sides' folders are read whole, as after a checkpoint.
    merged[folder] = patchFolder(base, dropped, recs, {
      onA: base.onA || recs.some((r) => r.a), onB: base.onB || recs.some((r) => r.b),
      ...(base.uidValidity ? { uidValidity: base.uidValidity } : {}),
    });
  }
  Object.assign(state.folders, merged);
  return { state };
}

/** An entry as this run names the sides: one written by `sync B A` turned round; one of other Maildirs, none. */
function oriented(e: JournalEntry, idA: string, idB: string): JournalEntry[] {
  if (e.idA === idA && e.idB === idB) return [e];
  if (e.idA !== idB || e.idB !== idA) return [];
  const records = e.records.map((r) => {
    const m: StateMessage = { hash: r.hash };
    if (r.infoRest !== undefined) m.infoRest = r.infoRest;
    if (r.b) m.a = r.b;
    if (r.a) m.b = r.a;
    return m;
  });
  return [{ ...e, idA, idB, to: other(e.to), records }];
}
