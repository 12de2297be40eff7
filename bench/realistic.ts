// The changes users live with between two runs: mail delivered to INBOX, the newest of it read or
// flagged, some filed from INBOX into three archive folders, Trash and INBOX expunged. Five of the
// folders change; the others hold still.

import { linkSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { messageSource, type BodyKind } from './bodies.js';
import type { ChangeCounts } from './corpus.js';
import { INBOX, baseName, curName, deliverToNew, folderDir, listFolders, readKeywords, splitName, writeKeywords } from './maildir.js';
import { Rng } from './rng.js';

export interface RealisticOptions {
  seed: number;
  /** Of each kind: deliveries, flag changes, filings; half as many expunges in Trash and in INBOX each. */
  count: number;
  bodies?: BodyKind;
  host?: string;
}

/** The folders a realistic day changes: INBOX, up to three archives, and Trash (the corpus's last folder plays Trash). */
export function realisticFolders(root: string): { archives: string[]; trash: string } {
  const folders = listFolders(root).filter((f) => f !== INBOX);
  if (folders.length < 2) throw new Error(`${root}: the realistic changes need at least 3 folders, found ${folders.length + 1}`);
  return { archives: folders.slice(0, Math.min(3, folders.length - 1)), trash: folders[folders.length - 1] as string };
}

export function describeRealistic(count: number, folders: number): string {
  const half = Math.floor(count / 2);
  const archives = Math.min(3, folders - 2);
  return `${count} deliveries to INBOX, ${count} flag changes on the newest INBOX mail, ${count} messages filed from INBOX into ${archives} folders, ` +
    `${half} expunged in Trash and ${half} in INBOX: ${archives + 2} of ${folders} folders changed`;
}

/** Newest first: a Dovecot name starts with its delivery time in seconds. */
function newest(root: string, folder: string): { location: 'cur' | 'new'; name: string }[] {
  const dir = folderDir(root, folder);
  const all = (['new', 'cur'] as const).flatMap((location) => readdirSync(join(dir, location)).map((name) => ({ location, name })));
  const time = (name: string): number => Number(/^\d+/.exec(name)?.[0] ?? 0);
  return all.sort((x, y) => time(y.name) - time(x.name) || (x.name < y.name ? 1 : -1));
}

export function applyRealisticChanges(root: string, options: RealisticOptions): ChangeCounts {
  const rng = new Rng(0x7ea1 + options.seed * 7919);
  const message = messageSource(options.bodies ?? 'synthetic', rng);
  const host = options.host ?? 'mail.example.org';
  const { archives, trash } = realisticFolders(root);
  const inbox = folderDir(root, INBOX);
  const counts: ChangeCounts = { delivered: 0, flagged: 0, moved: 0, expunged: 0 };
  const now = Date.UTC(2025, 6, 1) / 1000 + options.seed * 86_400;
  const pid = 30_000 + (options.seed % 30_000);
  let q = 0;
  const fresh = (size: number): string => baseName({ sec: now + q, usec: rng.int(1_000_000), pid, q: ++q, host, size });

  // What is already there, newest first: read and flagged; older INBOX mail filed or expunged.
  const mail = newest(root, INBOX);
  const flagged = mail.slice(0, options.count);
  const older = rng.shuffle(mail.slice(options.count));
  const filed = older.slice(0, options.count);
  const gone = older.slice(options.count, options.count + Math.floor(options.count / 2));
  for (const m of flagged) {
    const parts = splitName(m.name);
    // A client reading new mail moves it to cur/ as seen; read mail gets flagged or unflagged.
    const letters = m.location === 'new' || !parts.flags.includes('S') ? `${parts.flags}S` : parts.flags.includes('F') ? parts.flags.replace('F', '') : `${parts.flags}F`;
    renameSync(join(inbox, m.location, m.name), join(inbox, 'cur', curName(parts.base, letters + parts.keywords)));
    counts.flagged++;
  }
  const inboxKeywords = readKeywords(inbox);
  filed.forEach((m, i) => {
    const target = folderDir(root, archives[i % archives.length] as string);
    const parts = splitName(m.name);
    const names = readKeywords(target);
    let letters = parts.flags;
    for (const letter of parts.keywords) {
      const name = inboxKeywords[letter.charCodeAt(0) - 97];
      if (name === undefined) continue;
      if (!names.includes(name)) {
        names.push(name);
        writeKeywords(target, names);
      }
      letters += String.fromCharCode(97 + names.indexOf(name));
    }
    // As an IMAP MOVE does: the message under a new name there, then gone here.
    const size = Number(/,S=(\d+)/.exec(parts.base)?.[1] ?? 0);
    linkSync(join(inbox, m.location, m.name), join(target, 'cur', curName(fresh(size), letters)));
    unlinkSync(join(inbox, m.location, m.name));
    counts.moved++;
  });
  for (const m of gone) {
    unlinkSync(join(inbox, m.location, m.name));
    counts.expunged++;
  }
  for (const m of newest(root, trash).slice(0, Math.floor(options.count / 2))) {
    unlinkSync(join(folderDir(root, trash), m.location, m.name));
    counts.expunged++;
  }
  for (let i = 0; i < options.count; i++) {
    const data = message(now + q, 2_000_000 * options.seed + i);
    deliverToNew(inbox, fresh(data.length), data, now + q);
    counts.delivered++;
  }
  return counts;
}
