// Runtime checks for values decoded from the wire: each returns the typed value or throws, naming the field.

import { MdsyncError } from '../errors.js';
import { MAX_FOLDER, MAX_GUID, MAX_KEYWORD, MAX_LIST, MAX_TEXT } from './limits.js';

export type Check<T> = (value: unknown, path: string) => T;

export function invalid(path: string, why: string): never {
  throw new MdsyncError('PROTOCOL', `${path}: ${why}`);
}

const CONTROL = /[\x00-\x1f\x7f]/;

export const uint = (max = Number.MAX_SAFE_INTEGER): Check<number> => (v, path) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) invalid(path, `expected a whole number from 0 to ${max}, got ${describe(v)}`);
  return v as number;
};

export const bool: Check<boolean> = (v, path) => (typeof v === 'boolean' ? v : invalid(path, `expected true or false, got ${describe(v)}`));

export const text = (max = MAX_TEXT): Check<string> => (v, path) => {
  if (typeof v !== 'string') invalid(path, `expected a string, got ${describe(v)}`);
  if ((v as string).length > max) invalid(path, `longer than ${max} characters`);
  return v as string;
};

/**
 * Free text of the peer's that is shown to the user (its root, its id, a warning): a control
 * character could drive the user's terminal (an escape sequence rewriting what is on screen).
 */
export const line = (max = MAX_TEXT): Check<string> => (v, path) => {
  const s = text(max)(v, path);
  if (CONTROL.test(s)) invalid(path, `${JSON.stringify(s.slice(0, 80))} holds a control character`);
  return s;
};

export const oneOf = <T extends string>(...values: T[]): Check<T> => (v, path) => {
  if (!values.includes(v as T)) invalid(path, `expected one of ${values.join(', ')}, got ${describe(v)}`);
  return v as T;
};

export const bytes = (max: number): Check<Uint8Array> => (v, path) => {
  if (!(v instanceof Uint8Array)) invalid(path, `expected bytes, got ${describe(v)}`);
  if ((v as Uint8Array).length > max) invalid(path, `more than ${max} bytes`);
  return v as Uint8Array;
};

export const list = <T>(item: Check<T>, max = MAX_LIST): Check<T[]> => (v, path) => {
  if (!Array.isArray(v)) invalid(path, `expected a list, got ${describe(v)}`);
  const arr = v as unknown[];
  if (arr.length > max) invalid(path, `more than ${max} entries`);
  return arr.map((x, i) => item(x, `${path}[${i}]`));
};

export const nullable = <T>(item: Check<T>): Check<T | null> => (v, path) => (v === null ? null : item(v, path));

type Shape = Record<string, Check<unknown>>;
type Out<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };
type Optional<S extends Shape> = { [K in keyof S]?: ReturnType<S[K]> };

/** A map with required and optional keys; unknown keys are dropped (a newer peer may add fields). */
export const record = <R extends Shape, O extends Shape = Record<never, never>>(required: R, optional?: O): Check<Out<R> & Optional<O>> => {
  // Listed once, not per value: a first copy checks a hundred thousand of these.
  const mandatory = Object.entries(required);
  const optionals = Object.entries(optional ?? {});
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) invalid(path, `expected a map, got ${describe(v)}`);
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, check] of mandatory) {
      if (!Object.hasOwn(src, key)) invalid(path, `missing field "${key}"`);
      out[key] = check(src[key], `${path}.${key}`);
    }
    for (const [key, check] of optionals) {
      if (Object.hasOwn(src, key) && src[key] !== undefined && src[key] !== null) out[key] = check(src[key], `${path}.${key}`);
    }
    return out as Out<R> & Optional<O>;
  };
};

/** A fixed-length list (compact records on the wire), checked position by position. */
export const tuple = <T extends Check<unknown>[]>(...items: T): Check<{ [K in keyof T]: ReturnType<T[K]> }> => (v, path) => {
  if (!Array.isArray(v) || v.length !== items.length) invalid(path, `expected a list of ${items.length}, got ${describe(v)}`);
  return items.map((check, i) => check((v as unknown[])[i], `${path}[${i}]`)) as { [K in keyof T]: ReturnType<T[K]> };
};

/** A folder name: "/"-separated, no empty, "." or ".." component, no control character or NUL. */
const folderText = text(MAX_FOLDER);
const guidText = text(MAX_GUID);
const flagsText = text(64);
const keywordText = text(MAX_KEYWORD);

export const folder: Check<string> = (v, path) => {
  const name = folderText(v, path);
  if (name === '') invalid(path, 'empty folder name');
  if (name.startsWith('/') || name.endsWith('/')) invalid(path, `folder name ${JSON.stringify(name)} starts or ends with "/"`);
  if (CONTROL.test(name)) invalid(path, `folder name ${JSON.stringify(name)} holds a control character`);
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..') invalid(path, `folder name ${JSON.stringify(name)} has an empty, "." or ".." component`);
  }
  return name;
};

/** Info marks: a base name holding one is read back, once written, as another message's name. */
const INFO_MARKS = [':2,', '!2,', ';2,'];

/** A message GUID is a file's base name: one path component, never hidden, never a control character or an info mark. */
/**
 * The GUID of a name a scan skipped: whatever name an earlier version may have synced (control
 * characters and info marks included), so only what no file name can be is refused.
 */
export const skippedGuid: Check<string> = (v, path) => {
  const g = guidText(v, path);
  if (g === '' || g.includes('/')) invalid(path, `${JSON.stringify(g)} is not the GUID of a file name`);
  return g;
};

export const guid: Check<string> = (v, path) => {
  const g = guidText(v, path);
  if (g === '') invalid(path, 'empty GUID');
  if (g.includes('/')) invalid(path, `GUID ${JSON.stringify(g)} contains "/"`);
  if (g.startsWith('.')) invalid(path, `GUID ${JSON.stringify(g)} starts with "."`);
  if (CONTROL.test(g)) invalid(path, `GUID ${JSON.stringify(g)} holds a control character`);
  const mark = INFO_MARKS.find((m) => g.includes(m));
  if (mark) invalid(path, `GUID ${JSON.stringify(g)} holds the info mark "${mark}"`);
  return g;
};

/** Non-keyword flag letters: printable ASCII, no lower-case (those are keyword letters), no "/" or ",". */
export const flags: Check<string> = (v, path) => {
  const f = flagsText(v, path);
  if (!/^[!-+\--.0-`{-~]*$/.test(f) || f.includes('/')) invalid(path, `bad flags ${JSON.stringify(f)}`);
  return f;
};

export const keyword: Check<string> = (v, path) => {
  const k = keywordText(v, path);
  if (k === '' || /[\x00-\x20\x7f]/.test(k)) invalid(path, `bad keyword ${JSON.stringify(k)}`);
  return k;
};

/** What follows the flags in a file name's info (",..."): one path component, printable. */
export const infoRest: Check<string> = (v, path) => {
  const r = guidText(v, path);
  if (r.includes('/') || CONTROL.test(r)) invalid(path, `bad info ${JSON.stringify(r)}`);
  return r;
};

/** A value of a dovecot-uidlist field (a Dovecot GUID): printable, no spaces, which separate the fields. */
export const uidlistToken: Check<string> = (v, path) => {
  const t = guidText(v, path);
  if (!/^[\x21-\x7e]+$/.test(t)) invalid(path, `bad uidlist value ${JSON.stringify(t)}`);
  return t;
};

/** Lower-case hex digits, exactly `length` of them. */
const hex = (length: number, what: string): Check<string> => {
  const pattern = new RegExp(`^[0-9a-f]{${length}}$`);
  const hexText = text(length);
  return (v, path) => {
    const h = hexText(v, path);
    if (!pattern.test(h)) invalid(path, `expected ${what}`);
    return h;
  };
};

export const hex64 = hex(64, 'a SHA-256 in hex');

/** A folder digest as this version writes it (src/digest.ts): 32 hex digits. */
export const hex32 = hex(32, 'a folder digest (32 hex digits)');

export const location = oneOf('new', 'cur');

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === 'object' ? 'a map' : String(v);
}
