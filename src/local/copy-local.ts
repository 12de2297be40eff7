// copyLocal: a move's target half, or a link to another message's bytes (twins.ts), from files
// this Maildir holds in other folders: a hard link where the arrival time allows, else copied file
// to file, else read and delivered.

import { MdsyncError } from '../errors.js';
import { copyFrom } from './deliver.js';
import type { CopyRequest, Placed } from '../model.js';
import type { MaildirFolder } from './folder.js';
import { linkable } from './mtimes.js';
import { locateMessages } from './read.js';

export async function copyLocal(target: MaildirFolder, items: CopyRequest[], open: (name: string) => Promise<MaildirFolder>): Promise<Placed[]> {
  const out: Placed[] = [];
  const bySource = new Map<string, number[]>();
  items.forEach((item, i) => bySource.set(item.fromFolder, [...(bySource.get(item.fromFolder) ?? []), i]));
  const unlinked = (i: number): Placed => ({ wanted: (items[i] as CopyRequest).guid, guid: (items[i] as CopyRequest).guid, hash: '', existed: false, vanished: true });
  for (const [fromFolder, indices] of bySource) {
    let source: MaildirFolder;
    let paths: (string | null)[];
    try {
      source = await open(fromFolder);
      paths = await locateMessages(source, indices.map((i) => (items[i] as CopyRequest).fromGuid));
    } catch (err) {
      // Links to another message's bytes (twins.ts) name folders from records that may be out of
      // date (deleted, unreadable since): not linked, the caller sends them. A move's source is not.
      if (!(err instanceof MdsyncError) || indices.some((i) => (items[i] as CopyRequest).hash === undefined)) throw err;
      for (const i of indices) out[i] = unlinked(i);
      continue;
    }
    // A hard link on the I/O threads (else file to file); what that cannot do (moved meanwhile) the usual way.
    const found = indices.flatMap((i, j) => (paths[j] ? [{ i, path: paths[j] as string }] : []));
    // A file with another arrival time than the copy must have is copied: its mtime stays its own.
    const ok = await linkable(found.map((f) => f.path), found.map((f) => (items[f.i] as CopyRequest).mtime));
    const located = found.filter((_, j) => ok[j]);
    const copied = await target.deliverFiles(located.map(({ i, path }) => {
      const { fromFolder: _from, fromGuid: _guid, mtime: _mtime, ...rest } = items[i] as CopyRequest;
      return { ...rest, path };
    }), true);
    copied.forEach((p, j) => {
      const at = located[j]?.i;
      if (p && !('twin' in p) && at !== undefined) out[at] = { wanted: p.wanted, guid: p.guid, hash: p.hash, existed: p.existed, ...(p.dropped ? { dropped: p.dropped } : {}) };
    });
    // A link to another message's bytes is made as asked or not at all: the caller sends it then.
    for (const i of indices) if (out[i] === undefined && (items[i] as CopyRequest).hash !== undefined) out[i] = unlinked(i);
    const rest = indices.filter((i) => out[i] === undefined);
    if (rest.length === 0) continue;
    const placed = await copyFrom(target, source, rest.map((i) => items[i] as CopyRequest));
    placed.forEach((p, j) => { out[rest[j] as number] = p; });
  }
  return out;
}
