// Summing up a Maildir's folders (listFolders) under a memory budget: a folder that cannot be read
// is listed as such, never left out, and beyond `keep` messages each folder summed up lets go of
// its listing (kept as its scan cache record), the ones the cache does not know listed a few at a time.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MdsyncError } from '../errors.js';
import type { FolderSummary } from '../model.js';
import type { Confinement } from './confine.js';
import type { MaildirFolder } from './folder.js';
import { INBOX, type FolderDir } from './layout.js';
import type { FolderRegistry } from './registry.js';
import type { ScanCache } from './scan-cache.js';

/** Folders listed at once when each may be let go of once summed up. */
const RELEASED_LISTINGS = 8;
/** Errors that make one folder unreadable without saying anything about the rest of the Maildir. */
const UNREADABLE = new Set(['PERMISSION', 'BAD_FOLDER', 'BAD_CONTROL_FILE']);

export interface Listing {
  root: string;
  registry: FolderRegistry;
  confine: Confinement;
  cache?: ScanCache;
  /** Lets go of a folder's listing (LocalAgent.release). */
  release(folder: MaildirFolder): Promise<void>;
}

/** The folders' summaries; `keep`: folders summed up beyond this many messages are let go of. */
export async function summarizeFolders(l: Listing, dirs: FolderDir[], keep?: number): Promise<FolderSummary[]> {
  const hasInbox = await stat(join(l.root, 'cur')).then(() => true, () => false);
  let kept = 0;
  // A folder that exists but cannot be read is listed as such, never left out: left out, it
  // would read as deleted, and the other side's copy would be expunged.
  const summarize = async (d: FolderDir): Promise<FolderSummary> => {
    try {
      // Confined once, as the registry's open() does: a run lists its folders again at every pass.
      if (!l.registry.known(d.name)) await l.confine.folder(join(l.root, d.dir));
      const folder = l.registry.at(d.name, d.dir);
      const summary = { name: d.name, ...await folder.summary(l.cache?.folders[d.name]) };
      if (keep !== undefined && (kept += summary.messages) > keep && folder.spareListing) await l.release(folder);
      return summary;
    } catch (err) {
      if (!(err instanceof MdsyncError) || !UNREADABLE.has(err.code)) throw err;
      return { name: d.name, digest: '', messages: 0, uids: '', unreadable: err.message };
    }
  };
  const listed = dirs.filter((d) => d.name !== INBOX || hasInbox);
  const recorded = (d: FolderDir): boolean => l.cache?.folders[d.name] !== undefined;
  if (keep === undefined || listed.every(recorded)) return Promise.all(listed.map(summarize));
  // Folders the scan cache does not know, which may be let go of, are listed a few at a time:
  // all at once, every listing is in memory together, and the heap grows to several times that
  // before it is collected. (Most folders with a record are summed up from it, nothing listed.)
  const { default: PQueue } = await import('p-queue');
  const queue = new PQueue({ concurrency: RELEASED_LISTINGS });
  return Promise.all(listed.map((d) => (recorded(d) ? summarize(d) : queue.add(() => summarize(d)))));
}
