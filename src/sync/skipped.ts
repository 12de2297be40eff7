// Names a side's scan skipped (a directory or symlink under a message's name, a name an earlier
// version synced and this one refuses): there, a saved record is neither held nor expunged.

import type { FolderManifest, MessageEntry } from '../model.js';
import type { Side, StateMessage } from './state.js';

export type SkippedNames = Record<Side, ReadonlySet<string>>;

const NONE: ReadonlySet<string> = new Set();

/** Each side's skipped GUIDs in a folder (an older peer tells none). */
export function skippedNames(fa: FolderManifest | undefined, fb: FolderManifest | undefined): SkippedNames {
  return { a: fa?.skipped ? new Set(fa.skipped) : NONE, b: fb?.skipped ? new Set(fb.skipped) : NONE };
}

/**
 * Whether a record's absence on a side is only its file being skipped there: the record then
 * stays as saved and the other side's copy is left alone. A side without a half of the record is
 * looked up under the other half's name (a backup's replica, a one-way run's gap).
 */
export function absentAsSkipped(skipped: SkippedNames, m: StateMessage, ea?: MessageEntry, eb?: MessageEntry): boolean {
  if (!ea && skipped.a.has(m.a?.guid ?? eb?.guid ?? '')) return true;
  return !eb && skipped.b.has(m.b?.guid ?? ea?.guid ?? '');
}

/** Whether a message new on `side` has its name skipped on the other: nothing is done with it. */
export function skippedOpposite(skipped: SkippedNames, side: Side, e: MessageEntry): boolean {
  return skipped[side === 'a' ? 'b' : 'a'].has(e.guid);
}
