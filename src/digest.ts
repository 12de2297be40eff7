// The digest of a folder's manifest: equal digests mean the same messages with the same flags.

import { createHash } from 'node:crypto';
import type { FolderManifest, MessageEntry } from './model.js';

type DigestEntry = Pick<MessageEntry, 'guid' | 'flags' | 'keywords' | 'location' | 'infoRest'>;

export function digestEntries(entries: DigestEntry[]): string {
  const lines = entries.map((e) => `${e.guid}\t${e.flags}\t${e.keywords.join(' ')}\t${e.location}\t${e.infoRest ?? ''}\n`);
  lines.sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return hash.digest('hex').slice(0, 32);
}

/** What a folder's dovecot-uidlist says, as one value: "" without a uidlist; equal values mean equal UIDs and GUIDs. */
export function digestUids(manifest: Pick<FolderManifest, 'uidValidity' | 'mailboxGuid' | 'messages'>): string {
  if (manifest.uidValidity === undefined) return '';
  const lines = manifest.messages.filter((e) => e.uid !== undefined).map((e) => `${e.guid}\t${e.uid}\t${e.dovecotGuid ?? ''}\n`);
  lines.sort();
  const hash = createHash('sha256').update(`V${manifest.uidValidity}\tG${manifest.mailboxGuid ?? ''}\n`);
  for (const line of lines) hash.update(line);
  return hash.digest('hex').slice(0, 32);
}
