// Deterministic Maildir++ corpus for the benchmark and the demo, and the seeded changes applied to it.

import { linkSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageSource, type BodyKind } from './bodies.js';
import { INBOX, baseName, curName, deliverToNew, folderDir, listFolders, readKeywords, splitName, writeKeywords, writeSubscriptions } from './maildir.js';
import { Rng } from './rng.js';

export interface CorpusOptions {
  messages: number;
  /** Folders including INBOX: INBOX plus `.Folder01` … */
  folders: number;
  seed?: number;
  /** Host part of the file names. */
  host?: string;
  /** Where the message bytes come from (default: generated messages of 1–200 KB). */
  bodies?: BodyKind;
}

export interface CorpusInfo {
  messages: number;
  bytes: number;
  folders: string[];
  /** Messages left in new/ (not yet seen by a mail client). */
  inNew: number;
}

const FIRST = Date.UTC(2019, 0, 1) / 1000;
const LAST = Date.UTC(2025, 0, 1) / 1000 - 1;
/** Keyword sets with different letter orders, so the same name has different letters in different folders. */
const KEYWORD_SETS = [
  ['$Important', 'Junk', 'NonJunk', '$Forwarded'],
  ['Junk', '$Important', '$label1'],
  ['NonJunk', '$Forwarded', '$Important', 'Junk', '$MDNSent'],
];
const KEYWORD_ODDS: Record<string, number> = { $Important: 0.04, Junk: 0.02, NonJunk: 0.05, $Forwarded: 0.02, $label1: 0.03, $MDNSent: 0.01 };

export function folderNames(count: number): string[] {
  const width = Math.max(2, String(count - 1).length);
  return [INBOX, ...Array.from({ length: Math.max(0, count - 1) }, (_, i) => `Folder${String(i + 1).padStart(width, '0')}`)];
}

function makeFolder(root: string, folder: string, keywords: string[]): string {
  const dir = folderDir(root, folder);
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  if (folder !== INBOX) writeFileSync(join(dir, 'maildirfolder'), '');
  if (keywords.length > 0) writeKeywords(dir, keywords);
  return dir;
}

/** Flags of a message a user has handled: mostly seen, some answered, flagged, forwarded, deleted. */
function randomFlags(rng: Rng): string {
  let flags = '';
  if (rng.chance(0.88)) flags += 'S';
  if (flags && rng.chance(0.12)) flags += 'R';
  if (rng.chance(0.05)) flags += 'F';
  if (rng.chance(0.01)) flags += 'P';
  if (rng.chance(0.01)) flags += 'T';
  return flags;
}

function randomKeywordLetters(rng: Rng, keywords: string[]): string {
  let letters = '';
  keywords.forEach((name, i) => {
    if (rng.chance(KEYWORD_ODDS[name] ?? 0.02)) letters += String.fromCharCode(97 + i);
  });
  return letters;
}

/** Writes a fresh Maildir++ tree at `root` (which should not exist or be empty). */
export function generateCorpus(root: string, options: CorpusOptions): CorpusInfo {
  const rng = new Rng(options.seed ?? 1);
  const message = messageSource(options.bodies ?? 'synthetic', rng);
  const host = options.host ?? 'mail.example.org';
  const folders = folderNames(options.folders);
  mkdirSync(root, { recursive: true });
  const dirs = folders.map((f, i) => makeFolder(root, f, KEYWORD_SETS[i % KEYWORD_SETS.length] as string[]));
  const keywordSets = folders.map((_, i) => KEYWORD_SETS[i % KEYWORD_SETS.length] as string[]);
  // INBOX holds the most; the other folders get less and less.
  const weights = folders.map((_, i) => (i === 0 ? 4 : 2 / (1 + 0.25 * i)));
  let bytes = 0;
  let inNewCount = 0;
  for (let i = 0; i < options.messages; i++) {
    const f = rng.weighted(weights);
    const sec = rng.range(FIRST, LAST);
    const usec = rng.int(1_000_000);
    const data = message(sec, i + 1);
    const base = baseName({ sec, usec, pid: rng.range(300, 65000), q: i + 1, host, size: data.length });
    const inNew = rng.chance(0.02);
    if (inNew) inNewCount++;
    const path = inNew
      ? join(dirs[f] as string, 'new', base)
      : join(dirs[f] as string, 'cur', curName(base, randomFlags(rng) + randomKeywordLetters(rng, keywordSets[f] as string[])));
    writeFileSync(path, data);
    const mtime = sec + usec / 1e6;
    utimesSync(path, mtime, mtime);
    bytes += data.length;
  }
  // A couple of folders are not subscribed, as in most real accounts.
  writeSubscriptions(root, folders.filter((_, i) => i % 7 !== 6));
  return { messages: options.messages, bytes, folders, inNew: inNewCount };
}

export interface ChangeOptions {
  seed: number;
  /** Where delivered messages come from (default: generated messages of 1–200 KB). */
  bodies?: BodyKind;
  /** How many of each kind; the per-kind counts below override it. */
  count?: number;
  deliveries?: number;
  flagChanges?: number;
  moves?: number;
  expunges?: number;
  host?: string;
  /** Called with a line describing each change. */
  onChange?: (line: string) => void;
}

export interface ChangeCounts {
  delivered: number;
  flagged: number;
  moved: number;
  expunged: number;
}

interface Pick {
  folder: string;
  location: 'cur' | 'new';
  name: string;
}

function listMessages(root: string, folders: string[]): Pick[] {
  const out: Pick[] = [];
  for (const folder of folders) {
    for (const location of ['cur', 'new'] as const) {
      for (const name of readdirSync(join(folderDir(root, folder), location)).sort()) out.push({ folder, location, name });
    }
  }
  return out;
}

/** Letters in the target folder for the keyword letters of a source folder, adding names the target lacks. */
function translateKeywords(letters: string, from: string[], toDir: string): string {
  const target = readKeywords(toDir);
  let out = '';
  for (const letter of letters) {
    const name = from[letter.charCodeAt(0) - 97];
    if (name === undefined) continue;
    let index = target.indexOf(name);
    if (index < 0) {
      index = target.length;
      target.push(name);
      writeKeywords(toDir, target);
    }
    out += String.fromCharCode(97 + index);
  }
  return out;
}

/** A flag change a mail client makes: mark read, (un)flag, answer, or toggle a keyword. */
function changedLetters(rng: Rng, flags: string, keywords: string, known: number): { flags: string; keywords: string } {
  const toggle = (set: string, c: string): string => (set.includes(c) ? set.replace(c, '') : set + c);
  if (!flags.includes('S')) return { flags: flags + 'S', keywords };
  const r = rng.next();
  if (r < 0.4 || (r >= 0.7 && known === 0)) return { flags: toggle(flags, 'F'), keywords };
  if (r < 0.7) return { flags: toggle(flags, 'R'), keywords };
  return { flags, keywords: toggle(keywords, String.fromCharCode(97 + rng.int(known))) };
}

/**
 * Applies seeded changes to a Maildir++ tree as mail software does: deliveries (tmp/ → new/), flag
 * renames in cur/, moves to another folder under a new name (link there, unlink here, as mutt
 * does) and expunges. No message is touched by two changes of one call.
 */
export function applyChanges(root: string, options: ChangeOptions): ChangeCounts {
  const rng = new Rng(0x5eed + options.seed * 7919);
  const message = messageSource(options.bodies ?? 'synthetic', rng);
  const host = options.host ?? 'mail.example.org';
  const wanted = (n: number | undefined): number => n ?? options.count ?? 0;
  const log = options.onChange ?? (() => undefined);
  const folders = listFolders(root);
  const pool = rng.shuffle(listMessages(root, folders));
  let cursor = 0;
  const take = (ok: (p: Pick) => boolean): Pick | undefined => {
    while (cursor < pool.length) {
      const p = pool[cursor++] as Pick;
      if (ok(p)) return p;
    }
    return undefined;
  };
  // Changes happen "now": 2025 onwards, one day further per seed, so names never repeat.
  const now = Date.UTC(2025, 0, 1) / 1000 + options.seed * 86_400;
  const pid = 20_000 + (options.seed % 40_000);
  let q = 0;
  const freshBase = (size: number): string => baseName({ sec: now + q, usec: rng.int(1_000_000), pid, q: ++q, host, size });
  const counts: ChangeCounts = { delivered: 0, flagged: 0, moved: 0, expunged: 0 };

  for (let i = 0; i < wanted(options.expunges); i++) {
    const p = take(() => true);
    if (!p) break;
    unlinkSync(join(folderDir(root, p.folder), p.location, p.name));
    counts.expunged++;
    log(`expunged ${p.folder}/${p.location}/${p.name}`);
  }
  for (let i = 0; i < wanted(options.moves) && folders.length > 1; i++) {
    const p = take(() => true);
    if (!p) break;
    const fromDir = folderDir(root, p.folder);
    const target = rng.pick(folders.filter((f) => f !== p.folder));
    const toDir = folderDir(root, target);
    const old = join(fromDir, p.location, p.name);
    const parts = splitName(p.name);
    const size = /,S=(\d+)/.exec(parts.base)?.[1];
    const letters = parts.flags + translateKeywords(parts.keywords, readKeywords(fromDir), toDir);
    const name = curName(freshBase(size ? Number(size) : statSync(old).size), letters);
    linkSync(old, join(toDir, 'cur', name));
    unlinkSync(old);
    counts.moved++;
    log(`moved ${p.folder}/${p.location}/${p.name} to ${target}/cur/${name}`);
  }
  for (let i = 0; i < wanted(options.flagChanges); i++) {
    const p = take((c) => c.location === 'cur');
    if (!p) break;
    const dir = join(folderDir(root, p.folder), 'cur');
    const parts = splitName(p.name);
    const known = readKeywords(folderDir(root, p.folder)).length;
    const next = changedLetters(rng, parts.flags, parts.keywords, known);
    const name = curName(parts.base, next.flags + next.keywords);
    if (name === p.name) continue;
    renameSync(join(dir, p.name), join(dir, name));
    counts.flagged++;
    log(`flags ${p.folder}/cur/${p.name} → ${name.slice(name.lastIndexOf(':'))}`);
  }
  for (let i = 0; i < wanted(options.deliveries); i++) {
    const folder = rng.chance(0.6) ? INBOX : rng.pick(folders);
    const dir = folderDir(root, folder);
    const data = message(now + q, 1_000_000 * options.seed + i);
    const base = freshBase(data.length);
    deliverToNew(dir, base, data, now + q);
    counts.delivered++;
    log(`delivered ${folder}/new/${base}`);
  }
  return counts;
}
