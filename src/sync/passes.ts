// A first copy made in passes of a few folders: which runs are one, and which folders go in each pass.

import type { FolderList } from '../model.js';
import type { Mode } from './plan.js';
import type { Side } from './state.js';
import { PASS_MESSAGES, PASSES_FROM } from './tuning.js';

export interface FirstCopy {
  /** Messages to copy in all (a resumed copy: in its folders new to a side). */
  messages: number;
  /** Folder names, in name order, grouped into passes. */
  passes: string[][];
  /** A copy resumed under a saved state: its first pass is every folder the state knows. */
  resumed?: boolean;
  /** Messages in all the included folders, per side: each pass is guarded as the run planned whole would be (checkGuards). */
  totals: Record<Side, number>;
}

/**
 * Passes for a run that only fills an empty side: every folder of the side with mail, in name
 * order, grouped until a pass holds at least `size` messages; a folder only the empty side has
 * joins the pass its name falls in. Undefined for any other run, which goes in one pass as ever:
 * both sides hold mail, a folder is damaged or unreadable, the mode never copies that way, or
 * there are fewer messages than `least` (or than two passes hold).
 */
export function firstCopyPasses(
  mode: Mode, lists: Record<Side, FolderList>, include: (name: string) => boolean, size = PASS_MESSAGES, least = PASSES_FROM,
): FirstCopy | undefined {
  const counts = includedCounts(lists, include);
  if (!counts) return undefined;
  const total = (side: Side): number => sum(counts[side]);
  const from: Side | undefined = total('b') === 0 ? 'a' : total('a') === 0 && mode === 'sync' ? 'b' : undefined;
  if (from === undefined) return undefined;
  const messages = total(from);
  if (messages < Math.max(least, 2 * size)) return undefined;
  const passes = grouped(folderNames(counts).map((name) => [name, counts[from].get(name) ?? 0]), size);
  return passes.length > 1 ? { messages, passes, totals: { a: total('a'), b: total('b') } } : undefined;
}

/** Messages per included folder on each side; undefined when one is damaged or unreadable (one pass: the run's usual warnings). */
function includedCounts(lists: Record<Side, FolderList>, include: (name: string) => boolean): Record<Side, Map<string, number>> | undefined {
  const counts: Record<Side, Map<string, number>> = { a: new Map(), b: new Map() };
  for (const side of ['a', 'b'] as const) {
    for (const f of lists[side].folders) {
      if (!include(f.name)) continue;
      if (f.damaged !== undefined || f.unreadable !== undefined) return undefined;
      counts[side].set(f.name, f.messages);
    }
  }
  return counts;
}

const sum = (counts: Map<string, number>): number => [...counts.values()].reduce((n, c) => n + c, 0);

/** Both sides' folder names, in name order. */
const folderNames = (counts: Record<Side, Map<string, number>>): string[] => [...new Set([...counts.a.keys(), ...counts.b.keys()])].sort();

/** Folders in their order, grouped until a pass holds at least `size` messages (the last: what is left). */
function grouped(folders: [string, number][], size: number): string[][] {
  const passes: string[][] = [];
  let pass: string[] = [];
  let held = 0;
  for (const [name, count] of folders) {
    pass.push(name);
    held += count;
    if (held < size) continue;
    passes.push(pass);
    pass = [];
    held = 0;
  }
  if (pass.length > 0) passes.push(pass);
  return passes;
}

/** Per folder the saved state knows: how many messages each side held there (undefined: not the folder). */
export type SavedCounts = ReadonlyMap<string, Partial<Record<Side, number>>>;

/**
 * Passes for a run whose bulk is folders new to one side: a first copy that was stopped (killed,
 * or cut off) and is run again, with the state it saved or none, or a migration grown by new
 * folders. The first pass is every folder the state knows, or both sides hold mail in: a run as
 * ever over them. Then the folders only one side holds mail in (any side in a two-way sync, else
 * the first), which the state does not know, a few at a time as a first copy goes. Undefined when
 * those hold fewer than `least` messages (or than two passes hold), or a folder is damaged or
 * unreadable.
 *
 * A message moved from a known folder into a new one would be expunged from the other side's
 * copy in the first pass and copied again in its own (held throughout by the side it moved on,
 * never twice), not moved. So the messages gone from known folders on a side the new folders
 * come from (fewer than the state says) may be at most `slack`, a tenth of a pass: a few expunged
 * meanwhile on a live server keep the passes, a folder renamed or emptied into new ones has the
 * run planned whole, its messages moved. (A move hidden by as many deliveries into its folder is
 * copied again: what that costs is bounded by those deliveries.)
 */
export function resumedCopyPasses(
  mode: Mode, lists: Record<Side, FolderList>, saved: SavedCounts, include: (name: string) => boolean,
  size = PASS_MESSAGES, least = PASSES_FROM, slack = Math.floor(size / 10),
): FirstCopy | undefined {
  const counts = includedCounts(lists, include);
  if (!counts) return undefined;
  const first: string[] = [];
  const fresh: [string, number][] = [];
  const from = new Set<Side>();
  for (const name of folderNames(counts)) {
    const a = counts.a.get(name) ?? 0;
    const b = counts.b.get(name) ?? 0;
    const side: Side | undefined = saved.has(name) ? undefined : b === 0 && a > 0 ? 'a' : a === 0 && b > 0 && mode === 'sync' ? 'b' : undefined;
    if (side === undefined) {
      first.push(name);
      continue;
    }
    fresh.push([name, a + b]);
    from.add(side);
  }
  let gone = 0;
  for (const side of from) {
    for (const [name, held] of saved) {
      const had = held[side];
      if (had !== undefined && include(name)) gone += Math.max(0, had - (counts[side].get(name) ?? 0));
    }
  }
  if (gone > slack) return undefined;
  const messages = fresh.reduce((n, [, c]) => n + c, 0);
  if (messages < Math.max(least, 2 * size)) return undefined;
  const passes = [...(first.length > 0 ? [first] : []), ...grouped(fresh, size)];
  return passes.length > 1 ? { messages, passes, resumed: true, totals: { a: sum(counts.a), b: sum(counts.b) } } : undefined;
}
