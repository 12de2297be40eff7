// Keyword letters of a folder's files against its dovecot-keywords: which letters a map still
// names as another did, which it names since, the files carrying them, and reading the map.

import { join } from 'node:path';
import { CONTROL_FILE_MAX, readControlText } from './control-file.js';
import { KeywordMap } from './keywords.js';
import { infoMayHold, type Separator } from './name.js';
import type { ScannedFile } from './scan.js';

export const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * Whether every keyword letter one dovecot-keywords map names still names the same keyword in
 * another (letters may have been added): entries of files listed again are then the same, but
 * for files carrying a letter named since (lettersNamedSince).
 */
export function keepsLetters(before: KeywordMap, after: KeywordMap): boolean {
  return [...LETTERS].every((l) => before.nameOf(l) === undefined || before.nameOf(l) === after.nameOf(l));
}

/** Keyword letters that one map names and another did not. */
export function lettersNamedSince(before: KeywordMap, after: KeywordMap): string {
  return [...LETTERS].filter((l) => before.nameOf(l) === undefined && after.nameOf(l) !== undefined).join('');
}

/**
 * Files whose names carry one of `letters`: a file can carry a letter its folder's
 * dovecot-keywords does not name (yet), and when the letter gets a name the file's keywords
 * change without its name changing.
 */
export function carrying(files: Iterable<ScannedFile>, letters: string, separator: Separator): ScannedFile[] {
  const out: ScannedFile[] = [];
  if (letters === '') return out;
  for (const file of files) {
    if (!infoMayHold(file.name, letters, separator)) continue;
    if ([...file.parsed.keywordLetters].some((l) => letters.includes(l))) out.push(file);
  }
  return out;
}

/** A cache record's keyword map, or undefined when its text is not one (the digest is then not followed). */
export function parseKeywords(text: string): KeywordMap | undefined {
  try {
    return KeywordMap.parse(text, 'scan cache');
  } catch {
    return undefined;
  }
}

/** A folder's dovecot-keywords; an empty map where there is none. */
export async function readKeywords(dir: string): Promise<KeywordMap> {
  const path = join(dir, 'dovecot-keywords');
  return KeywordMap.parse(await readControlText(path, CONTROL_FILE_MAX.keywords) ?? '', path);
}
