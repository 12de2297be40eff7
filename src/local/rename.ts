// Flag changes and expunges in a folder: a rename() within cur/ (or new/ → cur/) applying a
// delta to the flags the file has now, never link+unlink; an unlink. ENOENT: the file moved under
// us, looked up again in a listing taken again.

import type { FlagDelta, FlagResult } from '../model.js';
import type { MaildirFolder } from './folder.js';
import { keywordLetters, learnKeywords } from './folder-keywords.js';
import type { KeywordMap } from './keywords.js';
import { formatName, sortChars } from './name.js';
import { removeFile, renameFile } from './disk.js';

/** Applies flag deltas to the flags each file has now, so a concurrent client's change is kept. */
export async function setFlags(folder: MaildirFolder, deltas: FlagDelta[]): Promise<FlagResult[]> {
  await folder.ensureScan();
  await learnKeywords(folder, [...new Set(deltas.flatMap((d) => d.addKeywords))]);
  const letterSets = deltas.map((d) => {
    const add = keywordLetters(folder, d.addKeywords, d.guid);
    return { add: add.letters, dropped: add.dropped, remove: (folder.index.keywords as KeywordMap).knownLetters(d.removeKeywords) };
  });
  const results: FlagResult[] = [];
  for (const [i, delta] of deltas.entries()) {
    const set = letterSets[i] as { add: string; dropped: string[]; remove: string };
    const result = await renameOne(folder, delta, set);
    results.push(set.dropped.length > 0 && !result.vanished ? { ...result, dropped: set.dropped } : result);
  }
  folder.markTouched();
  return results;
}

async function renameOne(folder: MaildirFolder, delta: FlagDelta, letters: { add: string; remove: string }): Promise<FlagResult> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const file = await folder.locate(delta.guid, attempt > 0);
    if (!file) return { guid: delta.guid, vanished: true };
    const p = file.parsed;
    const flags = sortChars([...p.flags + delta.addFlags].filter((c) => !delta.removeFlags.includes(c)).join(''));
    const keywordLetters = sortChars([...p.keywordLetters + letters.add].filter((c) => !letters.remove.includes(c)).join(''));
    const location = delta.location ?? file.location;
    const name = formatName({ guid: p.guid, flags, keywordLetters, infoRest: p.infoRest, opaqueInfo: p.opaqueInfo }, p.separator ?? folder.separator, location);
    if (name === file.name && location === file.location) return { guid: delta.guid, vanished: false };
    // rename(), never link+unlink: a flag change must not be able to leave two copies.
    if (!(await renameFile(folder.path(file), folder.pathOf(location, name), 'renaming'))) continue;
    folder.index.putFile({ name, location, guid: p.guid, parsed: { ...p, flags, keywordLetters } });
    folder.touchedDirs.add(folder.subdirs[location]);
    folder.touchedDirs.add(folder.subdirs[file.location]);
    return { guid: delta.guid, vanished: false };
  }
  return { guid: delta.guid, vanished: true };
}

export async function expunge(folder: MaildirFolder, guids: string[]): Promise<number> {
  await folder.ensureScan();
  let removed = 0;
  for (const guid of guids) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const file = await folder.locate(guid, attempt > 0);
      if (!file) break;
      if (!(await removeFile(folder.path(file), 'expunging'))) continue;
      folder.index.dropFile(guid);
      folder.touchedDirs.add(folder.subdirs[file.location]);
      removed++;
      break;
    }
  }
  folder.markTouched();
  return removed;
}
