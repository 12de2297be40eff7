// Maildir filename grammar: `<base>[<sep>2,<flags>[,<rest>]]`, the base being the message's GUID.

import { MdsyncError } from '../errors.js';

export const SEPARATORS = [':', '!', ';'] as const;
export type Separator = (typeof SEPARATORS)[number];

export interface ParsedName {
  guid: string;
  /** Sorted flag characters that are not keyword letters. */
  flags: string;
  /** Keyword letters (a–z), indices into this folder's dovecot-keywords. */
  keywordLetters: string;
  /** The separator this file uses, or undefined when it has no info. */
  separator?: Separator;
  /** Text after a second comma in the info, kept as it is. */
  infoRest?: string;
  /** Info that is not `2,…` (experimental semantics): kept verbatim, flags unknown. */
  opaqueInfo?: string;
  /** Size from the `,S=` field of the base, when present. */
  size?: number;
}

export const MAX_NAME = 255;
/** Flag letters a name may carry: as many as the wire takes. */
const MAX_FLAGS = 64;

export function sortChars(s: string): string {
  // Names are read by the hundred thousand and their letters are nearly always in order already.
  let ordered = true;
  for (let i = 0; i < s.length && ordered; i++) {
    const c = s.charCodeAt(i);
    ordered = c < 0xd800 && (i === 0 || c > s.charCodeAt(i - 1));
  }
  return ordered ? s : [...new Set(s)].sort().join('');
}

const INFO_MARK: Record<Separator, string> = { ':': ':2,', '!': '!2,', ';': ';2,' };
const INFO_MARKS = Object.values(INFO_MARK);

/** Finds the info separator: the configured one first, then the others (files from another system). */
function findInfo(name: string, preferred: Separator): { at: number; sep: Separator } | undefined {
  const first = name.lastIndexOf(INFO_MARK[preferred]);
  if (first > 0) return { at: first, sep: preferred };
  for (const sep of SEPARATORS) {
    if (sep === preferred) continue;
    const at = name.lastIndexOf(INFO_MARK[sep]);
    if (at > 0) return { at, sep };
  }
  const at = name.lastIndexOf(preferred);
  if (at > 0) return { at, sep: preferred };
  return undefined;
}

/** Throws BAD_NAME for a name no Maildir file can have; every other name parses. */
export function checkName(name: string): void {
  if (name.length === 0 || name.length > MAX_NAME || name.includes('/') || name.includes('\0')) {
    throw new MdsyncError('BAD_NAME', `not a Maildir file name: ${JSON.stringify(name)}`);
  }
}

const CONTROL = /[\x00-\x1f\x7f]/;
const BAD_FLAGS = `its flags are not ${MAX_FLAGS} or fewer printable ASCII characters; rename it to have it synced`;

/**
 * Why a listed file cannot be synced as a message, or undefined when it can (`guid`: its
 * guidOfName). The scan decides this alone, so every name it keeps is one the wire takes (no
 * control character, flags in printable ASCII) and one that round-trips: its base name, written
 * bare in new/ or followed by any info, parses back to itself (`X:2,S:2,` in new/ was written
 * `X:2,S`, read back as message X with \Seen).
 */
export function unsyncableName(name: string, guid: string, separator: Separator): string | undefined {
  if (name.length === 0 || name.length > MAX_NAME || name.includes('/')) return 'not a Maildir file name';
  if (CONTROL.test(name)) return 'the file name holds a control character; rename it to have it synced';
  // Nearly no base name holds a separator character: only those that do are searched for marks.
  if (guid.includes(':') || guid.includes('!') || guid.includes(';')) {
    const mark = INFO_MARKS.find((m) => guid.includes(m)) ?? (guid.includes(separator) ? separator : undefined);
    if (mark) return `its base name holds "${mark}", so it would read back as another message's name; rename it to have it synced`;
  }
  const at = guid.length + 1;
  if (name.charCodeAt(at) !== 0x32 || name.charCodeAt(at + 1) !== 0x2c) return undefined;
  let end = at + 2;
  for (; end < name.length && name.charCodeAt(end) !== 0x2c; end++) {
    const c = name.charCodeAt(end);
    if (c === 0x20 || c > 0x7e) return BAD_FLAGS;
  }
  if (end - at - 2 > MAX_FLAGS && parseName(name, separator).flags.length > MAX_FLAGS) return BAD_FLAGS;
  return undefined;
}

/** A file name for a one-line message: control characters (C0, DEL, C1, line separators) and the backslash escaped. */
export function printableName(name: string): string {
  return name.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\\]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** The GUID part of a file name (as parseName finds it), without parsing the rest. */
export function guidOfName(name: string, preferred: Separator = ':'): string {
  const found = findInfo(name, preferred);
  return found ? name.slice(0, found.at) : name;
}

/** The length of the GUID part (guidOfName's) of the name text[from, end), found in place: names joined in one string. */
export function guidLengthIn(text: string, from: number, end: number, preferred: Separator = ':'): number {
  // On the name alone: a search of the whole text for a mark the name lacks would cross every name.
  return findInfo(text.slice(from, end), preferred)?.at ?? end - from;
}

/**
 * Whether a name's info may hold one of `letters`: false only when it holds none (a test before
 * parseName, for names by the thousand of which a few carry a letter).
 */
export function infoMayHold(name: string, letters: string, preferred: Separator = ':'): boolean {
  const found = findInfo(name, preferred);
  if (!found) return false;
  for (let i = found.at + 1; i < name.length; i++) if (letters.includes(name.charAt(i))) return true;
  return false;
}

/**
 * The size a base name gives (`,S=<digits>` ended by a comma or the name's end; the first such),
 * read without a regular expression: a first copy parses every one of its names.
 */
function sizeField(guid: string): number | undefined {
  for (let at = guid.indexOf(',S='); at >= 0; at = guid.indexOf(',S=', at + 1)) {
    let end = at + 3;
    while (end < guid.length && guid.charCodeAt(end) >= 48 && guid.charCodeAt(end) <= 57) end++;
    if (end > at + 3 && (end === guid.length || guid.charCodeAt(end) === 44)) return Number(guid.slice(at + 3, end));
  }
  return undefined;
}

export function parseName(name: string, preferred: Separator = ':'): ParsedName {
  checkName(name);
  const found = findInfo(name, preferred);
  const guid = found ? name.slice(0, found.at) : name;
  const parsed: ParsedName = { guid, flags: '', keywordLetters: '' };
  const size = sizeField(guid);
  if (size !== undefined) parsed.size = size;
  if (!found) return parsed;
  parsed.separator = found.sep;
  const info = name.slice(found.at + 1);
  if (!info.startsWith('2,')) {
    parsed.opaqueInfo = info;
    return parsed;
  }
  const body = info.slice(2);
  const comma = body.indexOf(',');
  const letters = comma < 0 ? body : body.slice(0, comma);
  if (comma >= 0) parsed.infoRest = body.slice(comma);
  let flags = '';
  let keywordLetters = '';
  for (const ch of letters) {
    if (ch >= 'a' && ch <= 'z') keywordLetters += ch;
    else flags += ch;
  }
  parsed.flags = sortChars(flags);
  parsed.keywordLetters = sortChars(keywordLetters);
  return parsed;
}

export interface NameParts {
  guid: string;
  flags: string;
  keywordLetters: string;
  infoRest?: string;
  opaqueInfo?: string;
}

/**
 * Builds a filename. A message in new/ with no flags keeps a bare base name (as MDAs deliver);
 * every other message gets `:2,` info with flags in ASCII order (Maildir spec).
 */
export function formatName(parts: NameParts, separator: Separator, location: 'new' | 'cur'): string {
  if (parts.opaqueInfo !== undefined && parts.flags === '' && parts.keywordLetters === '') {
    return `${parts.guid}${separator}${parts.opaqueInfo}`;
  }
  const letters = sortChars(parts.flags + parts.keywordLetters);
  if (location === 'new' && letters === '' && !parts.infoRest) return parts.guid;
  return `${parts.guid}${separator}2,${letters}${parts.infoRest ?? ''}`;
}

let counter = 0;

/** A fresh unique base name, `<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>` (Maildir spec, Dovecot style). */
export function freshGuid(size: number, host: string, now: number = Date.now()): string {
  const sec = Math.floor(now / 1000);
  const usec = (now % 1000) * 1000 + Math.floor(Math.random() * 1000);
  counter += 1;
  const safeHost = host.replace(/\//g, '\\057').replace(/:/g, '\\072').replace(/[!;]/g, '_');
  return `${sec}.M${usec}P${process.pid}Q${counter}.${safeHost},S=${size}`;
}
