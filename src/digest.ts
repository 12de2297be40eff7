// The digest of a folder's manifest: equal digests mean the same messages with the same flags.

import { createHash } from 'node:crypto';
import type { MessageEntry } from './model.js';

type DigestEntry = Pick<MessageEntry, 'guid' | 'flags' | 'keywords' | 'location' | 'infoRest'>;

export function digestEntries(entries: DigestEntry[]): string {
  const lines = entries.map((e) => `${e.guid}\t${e.flags}\t${e.keywords.join(' ')}\t${e.location}\t${e.infoRest ?? ''}\n`);
  lines.sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return hash.digest('hex').slice(0, 32);
}

/** What a folder's dovecot-uidlist says, as one value: "" without a uidlist; equal values mean equal UIDs. */
export function digestUids(uidValidity: number | undefined, entries: Pick<MessageEntry, 'guid' | 'uid'>[]): string {
  if (uidValidity === undefined) return '';
  const lines = entries.filter((e) => e.uid !== undefined).map((e) => `${e.guid}\t${e.uid}\n`);
  lines.sort();
  const hash = createHash('sha256').update(`V${uidValidity}\n`);
  for (const line of lines) hash.update(line);
  return hash.digest('hex').slice(0, 32);
}
