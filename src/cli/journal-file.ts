// The journal of placements beside a pair's state: `<state>.journal/<n>` files of JSON lines, each
// dropped once a saved state covers it (a run killed before that leaves them to the next run). A
// directory per pair: finding a pair's parts never lists the state directory, which holds every
// pair a batch ran.

import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isErrno } from '../errors.js';
import type { JournalEntry, PlacementJournal } from '../sync/journal.js';
import { fromTuples, toMessageTuple, type MessageTuple } from '../sync/state/records.js';
import { fromErrno, fsyncPathSync } from '../local/disk.js';

/** The journal holds names, flags and hashes of the batches placed since the last saved state, never message bytes. */
export function journalFile(statePath: string): PlacementJournal {
  const dir = `${statePath}.journal`;
  const parts = (): number[] => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw fromErrno(err, 'reading the journal in', dir);
    }
    return names.flatMap((n) => (/^\d+$/.test(n) ? [Number(n)] : [])).sort((x, y) => x - y);
  };
  const pathOf = (n: number): string => join(dir, String(n));
  let next: number | undefined;
  let current: { n: number; fd: number } | undefined;
  /** Parts written since the last sync. */
  const unsynced = new Set<number>();
  /** Each part's number, past all left by runs before: the parts are read in this order. */
  const newPart = (): number => {
    next ??= (parts().pop() ?? 0) + 1;
    return next++;
  };
  let part = 0;
  let newDir = false;
  let dirMade = false;

  const write = (entries: JournalEntry[]): void => {
    if (part === 0) part = newPart();
    if (!current || current.n !== part) {
      if (current) closeSync(current.fd);
      if (!dirMade) {
        // Its entry in the state directory made durable with the first part's (sync).
        if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) newDir = true;
        dirMade = true;
      }
      current = { n: part, fd: openSync(pathOf(part), 'a', 0o600) };
    }
    unsynced.add(part);
    // One write per batch: a write(2) this small lands whole in the page cache before a kill.
    // Records as the state file's tuples (state/records.ts): a first copy journals every message.
    writeSync(current.fd, entries.map((e) => `${JSON.stringify({ ...e, records: e.records.map(toMessageTuple) })}\n`).join(''));
  };

  return {
    async read() {
      const out: JournalEntry[] = [];
      for (const n of parts()) {
        let text: string;
        try {
          text = readFileSync(pathOf(n), 'utf8');
        } catch (err) {
          if (isErrno(err, 'ENOENT')) continue;
          throw fromErrno(err, 'reading the journal', pathOf(n));
        }
        for (const line of text.split('\n')) {
          // A line cut short by a power cut is left out: its batch was the last begun.
          try {
            if (!line) continue;
            const entry = JSON.parse(line) as Omit<JournalEntry, 'records'> & { records: MessageTuple[] };
            out.push({ ...entry, records: fromTuples(entry.records) });
          } catch {
            continue;
          }
        }
      }
      return out;
    },
    async append(entry) {
      try {
        write([entry]);
      } catch (err) {
        throw fromErrno(err, 'writing the journal', pathOf(part));
      }
    },
    mark(carry) {
      part = newPart();
      // Written now, before the parts this mark lets go of can be removed.
      if (carry.length > 0) {
        try {
          write(carry);
        } catch (err) {
          throw fromErrno(err, 'writing the journal', pathOf(part));
        }
      }
      return part;
    },
    async covered(mark) {
      for (const n of parts()) {
        if (n >= mark) continue;
        if (current?.n === n) {
          closeSync(current.fd);
          current = undefined;
        }
        unsynced.delete(n);
        try {
          unlinkSync(pathOf(n));
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw fromErrno(err, 'removing the journal', pathOf(n));
        }
      }
      // Nothing left to recover: the directory goes too, and the next write makes it again.
      if (!current && parts().length === 0) {
        try {
          rmdirSync(dir);
          dirMade = false;
        } catch {
          // Not there, or a part came meanwhile: it stays.
        }
      }
    },
    async sync() {
      if (unsynced.size === 0) return;
      try {
        for (const n of unsynced) {
          if (current?.n === n) {
            fsyncSync(current.fd);
            continue;
          }
          fsyncPathSync(pathOf(n));
        }
        fsyncPathSync(dir);
        if (newDir) fsyncPathSync(dirname(dir));
        newDir = false;
        unsynced.clear();
      } catch (err) {
        throw fromErrno(err, 'saving the journal in', dir);
      }
    },
  };
}
