// The journal of placements: what a run is about to place and has placed, kept beside the state so
// that copies a killed run made are recorded all the same (recoverPlacements reads it back).

import type { Side, StateMessage, SyncState } from './state.js';

/** One batch's records, as planned (before its files are placed) or as placed (`placed`). */
export interface JournalEntry {
  idA: string;
  idB: string;
  folder: string;
  /** The side the batch is placed on. */
  to: Side;
  placed?: boolean;
  records: StateMessage[];
}

/** Where the journal is kept (the CLI: files beside the state). Appends need no fsync: a killed process's writes survive it. */
export interface PlacementJournal {
  /** What runs before this one wrote and no saved state covered. */
  read(): Promise<JournalEntry[]>;
  append(entry: JournalEntry): Promise<void>;
  /**
   * A state is being built: what is appended from now on goes apart, after `carry` (entries that
   * state leaves out). The number returned is what a save of that state passes to `covered`.
   */
  mark(carry: JournalEntry[]): number;
  /** That state is saved: what was appended before its mark is dropped. */
  covered(mark: number): Promise<void>;
  /** Makes what was appended durable, where the sides' writes are committed. */
  sync(): Promise<void>;
}

const MARKS = new WeakMap<SyncState, number>();

/** The journal mark of a state built by a run (undefined for one loaded or built with no journal). */
export function journalMark(state: SyncState): number | undefined {
  return MARKS.get(state);
}

/** A run's side of the journal: which entries a state built now leaves out, so they are carried on. */
export class PlacementLog {
  /** Batches begun and not reported placed: some of their files may be in place. */
  private readonly open = new Set<JournalEntry>();
  /** Batches placed into folders a state built now leaves out (staged, not yet published). */
  private held: JournalEntry[] = [];
  /** Entries of folders this run does not look at (--folder): carried on untouched. */
  private readonly kept: JournalEntry[] = [];
  /** Batches into a folder built aside: journalled once, as it is published (publishing). */
  private readonly aside = new WeakSet<JournalEntry>();

  constructor(private readonly journal: PlacementJournal, private readonly ids: { idA: string; idB: string }) {}

  keep(entry: JournalEntry): void {
    this.kept.push(entry);
  }

  /**
   * Appended before the files are placed; the records are copied (placing fills them in: notePlaced).
   * Not into a folder built aside (`staged`): no reader sees its files before it is published, and
   * a killed run's staging is removed by the next, so only what is published is journalled.
   */
  async before(folder: string, to: Side, records: StateMessage[], staged = false): Promise<JournalEntry> {
    if (staged) {
      const entry: JournalEntry = { ...this.ids, folder, to, records: [] };
      this.aside.add(entry);
      return entry;
    }
    const entry: JournalEntry = { ...this.ids, folder, to, records: records.map(copyRecord) };
    this.open.add(entry);
    await this.journal.append(entry);
    return entry;
  }

  /**
   * The batch's placed records. Only those placed otherwise than planned (under a fresh name, or
   * short of keywords) are appended: the others are the planned ones, found by name and bytes.
   */
  async after(intent: JournalEntry, records: StateMessage[]): Promise<void> {
    this.open.delete(intent);
    if (records.length === 0) return;
    const entry: JournalEntry = { ...this.ids, folder: intent.folder, to: intent.to, placed: true, records };
    this.held.push(entry);
    if (this.aside.has(intent)) return;
    const from = intent.to === 'a' ? 'b' : 'a';
    const planned = new Map(intent.records.map((r) => [r[from]?.guid, r[intent.to]]));
    const changed = records.filter((r) => {
      const was = planned.get(r[from]?.guid);
      return !was || was.guid !== r[intent.to]?.guid || was.keywords.length !== r[intent.to]?.keywords.length;
    });
    if (changed.length > 0) await this.journal.append({ ...entry, records: changed });
  }

  /**
   * Before a staged folder is published: its placed records, once, in the part being written (the
   * parts its batches went to may be gone with a state that left the folder out).
   */
  async publishing(folder: string, to: Side): Promise<void> {
    // Batch by batch, as they were placed: one line for a large folder would be held whole while it is encoded.
    for (const e of this.held) {
      if (e.folder === folder && e.to === to && e.records.length > 0) await this.journal.append({ ...this.ids, folder, to, placed: true, records: e.records });
    }
  }

  /** `state` was just built with every placed record but those of folders `left` says it left out. */
  mark(state: SyncState, left: (folder: string) => boolean): void {
    this.held = this.held.filter((e) => left(e.folder));
    try {
      MARKS.set(state, this.journal.mark([...this.kept, ...this.open]));
    } catch {
      // Unmarked, the state's save lets go of no journal: the next run reads it again.
    }
  }

  sync(): Promise<void> {
    return this.journal.sync();
  }
}

/**
 * A record as planned: placing replaces its side records and hash (notePlaced), never changes one
 * in place, and keyword arrays are frozen; so the record and its side records are copied, not deeper.
 */
function copyRecord(r: StateMessage): StateMessage {
  const copy: StateMessage = { hash: r.hash };
  if (r.infoRest !== undefined) copy.infoRest = r.infoRest;
  if (r.a) copy.a = { ...r.a };
  if (r.b) copy.b = { ...r.b };
  return copy;
}

const LOGS = new WeakMap<PlacementJournal, PlacementLog>();

/** The one log of a run's journal, shared by its passes and its recovery. */
export function placementLog(journal: PlacementJournal | undefined, ids: { idA: string; idB: string }): PlacementLog | undefined {
  if (!journal) return undefined;
  let log = LOGS.get(journal);
  if (!log) LOGS.set(journal, (log = new PlacementLog(journal, ids)));
  return log;
}
