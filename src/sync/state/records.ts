// A folder's records as lines of the state file: compact tuples in one JSON list whose items a
// tab separates (one record can be cut out and parsed alone), patch lines after it, each line
// checked against the size and checksum its header entry gives before it is used.

import { sha256 } from '../../sha256.js';
import { recordKey, sameRecord, type SideRecord, type StateMessage } from './model.js';

/** One line of a folder's records in the file: read on first use. */
export interface SavedLine {
  bytes: number;
  sha256: string;
  body: () => Buffer;
}

type RecordTuple = [string, string, string[], 'c' | 'n'];

/** [hash, infoRest or 0, a's record or 0, b's record, 0, or 1 when it equals a's] */
export type MessageTuple = [string, string | 0, RecordTuple | 0, RecordTuple | 0 | 1];

const toTuple = (r: SideRecord): RecordTuple => [r.guid, r.flags, r.keywords, r.location === 'new' ? 'n' : 'c'];

const fromTuple = (t: RecordTuple, keywords: (names: string[]) => string[]): SideRecord =>
  ({ guid: t[0], flags: t[1], keywords: keywords(t[2]), location: t[3] === 'n' ? 'new' : 'cur' });

/** One array per set of keyword names among records decoded together: a folder's records carry few sets. */
function keywordSets(): (names: string[]) => string[] {
  const sets = new Map<string, string[]>();
  return (names) => {
    if (!Array.isArray(names)) return names;
    const key = JSON.stringify(names);
    const known = sets.get(key);
    if (known) return known;
    const frozen = Object.freeze(names) as string[];
    sets.set(key, frozen);
    return frozen;
  };
}

export const toMessageTuple = (m: StateMessage): MessageTuple => [
  m.hash, m.infoRest ?? 0, m.a ? toTuple(m.a) : 0, !m.b ? 0 : m.a && sameRecord(m.a, m.b) ? 1 : toTuple(m.b),
];

/**
 * A folder's records as one JSON list whose items are apart by a tab (JSON whitespace, never raw
 * inside a JSON string): the line parses whole as a list, and one record can be cut out of it
 * and parsed alone (recordsFor).
 */
export function encodeMessages(messages: StateMessage[]): string {
  return `[${messages.map((m) => JSON.stringify(toMessageTuple(m))).join(',\t')}]`;
}

/** The saved state's records of a folder fail their checksum or cannot be decoded. */
export class StateDamagedError extends Error {
  readonly code = 'STATE_DAMAGED';
}

function damagedRecords(name: string, why: string): StateDamagedError {
  return new StateDamagedError(`the records of folder ${JSON.stringify(name)} ${why}`);
}

/** Lines whose bytes were found to be what their header entry describes. */
const CHECKED = new WeakSet<SavedLine>();

/** A line's bytes, when they are the bytes its header entry describes. */
export function checkedBody(line: SavedLine, name: string): Buffer {
  const body = line.body();
  if (CHECKED.has(line)) return body;
  if (body.length !== line.bytes || sha256(body) !== line.sha256) throw damagedRecords(name, 'fail their checksum');
  CHECKED.add(line);
  return body;
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw damagedRecords(name, 'are not JSON');
  }
}

function parsePatch(line: SavedLine, name: string): { drop: unknown[]; add: MessageTuple[] } {
  const patch = parseJson(checkedBody(line, name).toString('utf8'), name);
  if (!isObject(patch) || !Array.isArray(patch.drop) || !Array.isArray(patch.add)) throw damagedRecords(name, 'hold a patch that is not one');
  return { drop: patch.drop, add: patch.add as MessageTuple[] };
}

export function decodeMessages(lines: SavedLine[], name: string): StateMessage[] {
  const [first, ...patches] = lines;
  const tuples = first ? parseJson(checkedBody(first, name).toString('utf8'), name) : [];
  if (!Array.isArray(tuples)) throw damagedRecords(name, 'are not a list');
  // Records read from the file stand for the file's bytes: never changed in place.
  return Object.freeze(withPatches(fromTuples(tuples as MessageTuple[]), patches, name)) as StateMessage[];
}

/** Records after the patch lines that follow them: those dropped by key go, those added come (all, or those `keep` keeps). */
export function withPatches(records: StateMessage[], patches: SavedLine[], name: string, keep: (m: StateMessage) => boolean = () => true): StateMessage[] {
  let out = records;
  for (const line of patches) {
    const patch = parsePatch(line, name);
    const drop = new Set(patch.drop);
    out = [...out.filter((m) => !drop.has(recordKey(m))), ...fromTuples(patch.add).filter(keep)];
  }
  return out;
}


/** Where the JSON string starting at `at` (its opening quote) ends: its closing quote, or -1. */
function stringEnd(text: string, at: number): number {
  for (let q = text.indexOf('"', at + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return -1;
}

/** The end of the JSON value at `at` that is 0 or a string; -1 when it is neither. */
function zeroOrStringEnd(text: string, at: number): number {
  if (text.charCodeAt(at) === 0x30) return at + 1;
  if (text.charCodeAt(at) !== 0x22) return -1;
  const q = stringEnd(text, at);
  return q < 0 ? -1 : q + 1;
}

/**
 * The JSON text of a record's key (recordKey), quotes included, read off the tuple's text
 * without parsing it: [hash, infoRest or 0, a's record or 0, b's record...]. Undefined when the
 * text is not laid out so.
 */
function keyText(text: string, p: number): string | undefined {
  if (text.charCodeAt(p) !== 0x5b || text.charCodeAt(p + 1) !== 0x22) return undefined;
  let i = stringEnd(text, p + 1) + 1;
  if (i === 0 || text.charCodeAt(i) !== 0x2c) return undefined;
  i = zeroOrStringEnd(text, i + 1);
  if (i < 0 || text.charCodeAt(i) !== 0x2c) return undefined;
  i++;
  // a's record is 0: the key is b's.
  if (text.charCodeAt(i) === 0x30 && text.charCodeAt(i + 1) === 0x2c) i += 2;
  if (text.charCodeAt(i) !== 0x5b) return text.charCodeAt(i) === 0x30 ? '""' : undefined;
  const end = zeroOrStringEnd(text, i + 1);
  return end < 0 ? undefined : text.slice(i + 1, end);
}

/**
 * The records of a folder read from the file whose key is one of `keys`, without decoding the
 * rest; undefined when the first line is not tab-separated (written before records were), and
 * the caller decodes it whole. One pass over the line's items reads each one's key off its text;
 * only the items asked for are parsed.
 */
export function lookUpRecords(lines: SavedLine[], name: string, keys: Set<string>): StateMessage[] | undefined {
  const [first, ...patches] = lines;
  if (!first) return [];
  const body = checkedBody(first, name);
  if (body.length < 2 || body[0] !== 0x5b || body[body.length - 1] !== 0x5d) throw damagedRecords(name, 'are not a list');
  // Read as Latin-1, one character per byte: offsets in the text are offsets in the bytes.
  const text = body.toString('latin1');
  if (!text.includes('\t')) return undefined;
  const wanted = new Set([...keys].map((k) => Buffer.from(JSON.stringify(k)).toString('latin1')));
  const out: StateMessage[] = [];
  for (let p = 1; p < text.length - 1;) {
    const tab = text.indexOf('\t', p);
    // Items end with the "," before the next tab; the last with the list's "]".
    const end = tab < 0 ? text.length - 1 : tab - 1;
    const key = keyText(text, p);
    if (key === undefined) throw damagedRecords(name, 'are not records');
    if (wanted.has(key)) {
      const tuple = parseJson(body.toString('utf8', p, end), name);
      if (!Array.isArray(tuple)) throw damagedRecords(name, 'are not records');
      out.push(...fromTuples([tuple as MessageTuple]));
    }
    if (tab < 0) break;
    p = tab + 1;
  }
  return withPatches(out, patches, name, (m) => keys.has(recordKey(m)));
}

export function fromTuples(tuples: MessageTuple[]): StateMessage[] {
  const keywords = keywordSets();
  return tuples.map((t: MessageTuple): StateMessage => {
    const m: StateMessage = { hash: t[0] };
    if (t[1] !== 0) m.infoRest = t[1];
    if (t[2] !== 0) m.a = fromTuple(t[2], keywords);
    // A record the same on both sides is one object, as a run makes it (records are replaced, never changed).
    if (t[3] === 1) {
      if (m.a) m.b = m.a;
    } else if (t[3] !== 0) {
      m.b = fromTuple(t[3], keywords);
    }
    return m;
  });
}

export function bodyLine(body: Buffer): SavedLine {
  return { bytes: body.length, sha256: sha256(body), body: () => body };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
