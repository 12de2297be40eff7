// Keyword names a folder's files are given: letters from its dovecot-keywords, new names given
// letters before any file uses them, past the 26th reported and dropped.

import type { MaildirFolder } from './folder.js';
import type { KeywordMap } from './keywords.js';
import { addKeywordNames } from './control-files.js';

/** Letters for keywords (after learnKeywords gave new names theirs); those past the folder's 26th are reported and returned as dropped. */
export function keywordLetters(folder: MaildirFolder, keywords: string[], what: string): { letters: string; dropped: string[] } {
  const got = (folder.index.keywords as KeywordMap).lettersFor(keywords);
  for (const name of got.dropped) {
    folder.events.warn(`keyword "${name}" of ${what} not set here: the folder's dovecot-keywords already names 26 keywords, all a Maildir folder can hold`);
  }
  return got;
}

/**
 * Gives letters to keyword names the folder has none for, before any file uses them
 * (control-files.ts addKeywordNames, under Dovecot's lock). In-process callers take turns.
 */
export async function learnKeywords(folder: MaildirFolder, names: string[]): Promise<void> {
  await folder.ensureScan();
  if (names.every((n) => (folder.index.keywords as KeywordMap).has(n))) return;
  const step = folder.keywordSaves.then(async () => {
    await addKeywordNames(folder.home, names, `folder ${folder.name}`, folder.owner, (fresh) => folder.index.renameKeywords(fresh));
  });
  folder.keywordSaves = step.catch(() => undefined);
  await step;
}
