// A pair's saved state and placement journal kept in memory, wired into a run as the CLI wires
// the state file and the journal files: the state through its file format, read lazily; a saved
// state lets go of the journal parts it covers.

import { journalMark, type JournalEntry, type PlacementJournal } from '../../src/sync/journal.js';
import type { RunOptions } from '../../src/sync/run.js';
import { parseState, serializeState, type SyncState } from '../../src/sync/state.js';

/** The journal's parts, in order, as journal-file.ts keeps them on disk. */
export class MemoryJournal implements PlacementJournal {
  private readonly parts = new Map<number, JournalEntry[]>();
  private part = 0;
  private next = 1;

  async read(): Promise<JournalEntry[]> {
    return [...this.parts.keys()].sort((x, y) => x - y).flatMap((n) => structuredClone(this.parts.get(n) ?? []));
  }

  private write(entries: JournalEntry[]): void {
    if (this.part === 0) this.part = this.next++;
    const list = this.parts.get(this.part) ?? [];
    list.push(...structuredClone(entries));
    this.parts.set(this.part, list);
  }

  async append(entry: JournalEntry): Promise<void> {
    this.write([entry]);
  }

  mark(carry: JournalEntry[]): number {
    this.part = this.next++;
    if (carry.length > 0) this.write(carry);
    return this.part;
  }

  async covered(mark: number): Promise<void> {
    for (const n of [...this.parts.keys()]) if (n < mark) this.parts.delete(n);
  }

  async sync(): Promise<void> {}

  clone(): MemoryJournal {
    const c = new MemoryJournal();
    for (const [n, entries] of this.parts) c.parts.set(n, structuredClone(entries));
    c.part = this.part;
    c.next = this.next;
    return c;
  }

  /** Entries not yet covered by a saved state. */
  get size(): number {
    return [...this.parts.values()].reduce((n, p) => n + p.length, 0);
  }
}

export class MemoryPair {
  /** The saved state as its file holds it; undefined before the first save (or when lost). */
  stateFile?: Buffer;
  journal = new MemoryJournal();

  /** The options a run needs to load and save this pair's state and journal. */
  options(): Pick<RunOptions, 'loadState' | 'saveState' | 'journal'> {
    return {
      // Read as the CLI reads it: the header first, each folder's records on first use.
      loadState: async () => {
        const file = this.stateFile;
        if (!file) return {};
        const loaded = parseState(file.subarray(0, file.indexOf(0x0a)), { size: file.length, read: (at, length) => file.subarray(at, at + length) });
        return loaded.kind === 'ok' ? { state: loaded.state } : { problem: `saved state is unusable (${loaded.why})` };
      },
      saveState: async (state: SyncState) => {
        this.stateFile = serializeState(state);
        const mark = journalMark(state);
        if (mark !== undefined) await this.journal.covered(mark);
      },
      journal: this.journal,
    };
  }

  clone(): MemoryPair {
    const c = new MemoryPair();
    if (this.stateFile) c.stateFile = Buffer.from(this.stateFile);
    c.journal = this.journal.clone();
    return c;
  }

  /** The state and journal lost (a new machine, a wiped state directory). */
  lose(): void {
    this.stateFile = undefined;
    this.journal = new MemoryJournal();
  }
}
