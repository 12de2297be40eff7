// dovecot-uidlist reading: UIDVALIDITY, NEXTUID and each file's UID (v3 and Courier-style v1 headers).

import { MdsyncError } from '../errors.js';

export interface Uidlist {
  version: number;
  uidValidity: number;
  nextUid: number;
  /** Header fields other than V and N, kept verbatim. */
  headerExtra: string[];
  /** base name → UID and the record's extension fields. */
  records: Map<string, { uid: number; fields: string[] }>;
}

export function parseUidlist(text: string, path: string): Uidlist {
  const lines = text.split('\n');
  const header = (lines[0] ?? '').trim().split(/\s+/);
  // Never a quote of the file: its content must not travel in an error.
  const bad = (line: number, why: string): never => {
    throw new MdsyncError('BAD_UIDLIST', `${path} line ${line}: ${why}`);
  };
  const version = Number(header[0]);
  const list: Uidlist = { version, uidValidity: 0, nextUid: 0, headerExtra: [], records: new Map() };
  if (version === 1) {
    list.uidValidity = Number(header[1]);
    list.nextUid = Number(header[2]);
  } else if (version === 3) {
    for (const field of header.slice(1)) {
      if (field.startsWith('V')) list.uidValidity = Number(field.slice(1));
      else if (field.startsWith('N')) list.nextUid = Number(field.slice(1));
      else list.headerExtra.push(field);
    }
  } else {
    bad(1, 'unsupported version');
  }
  if (!Number.isSafeInteger(list.uidValidity) || !Number.isSafeInteger(list.nextUid)) bad(1, 'bad UIDVALIDITY or NEXTUID');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let uid: number;
    let base: string;
    let fields: string[] = [];
    if (version === 3) {
      const colon = line.indexOf(' :');
      if (colon < 0) bad(i + 1, 'no " :" before the file name');
      const head = line.slice(0, colon).split(' ');
      uid = Number(head[0]);
      fields = head.slice(1);
      base = line.slice(colon + 2);
    } else {
      const space = line.indexOf(' ');
      if (space < 0) bad(i + 1, 'no file name after the UID');
      uid = Number(line.slice(0, space));
      base = line.slice(space + 1);
    }
    if (!Number.isSafeInteger(uid) || uid <= 0) bad(i + 1, 'bad UID');
    // v1 lines hold the full file name; the base is what precedes the info.
    const info = base.search(/[:!;]2,/);
    list.records.set(info > 0 ? base.slice(0, info) : base, { uid, fields });
  }
  return list;
}

/** The v3 text of a uidlist: header, then one record per message in UID order (extension fields kept). */
export function formatUidlist(list: Uidlist): string {
  const header = ['3', `V${list.uidValidity}`, `N${list.nextUid}`, ...list.headerExtra].join(' ');
  const records = [...list.records].sort((x, y) => x[1].uid - y[1].uid)
    .map(([base, { uid, fields }]) => `${[String(uid), ...fields].join(' ')} :${base}\n`);
  return `${header}\n${records.join('')}`;
}

/** The value of a uidlist field given by its letter (`G` of `Gabc…`), if present. */
export function fieldOf(fields: string[], letter: string): string | undefined {
  return fields.find((f) => f.startsWith(letter))?.slice(1);
}

/** The fields with the one of this letter set to a value, or removed when the value is undefined. */
export function withField(fields: string[], letter: string, value: string | undefined): string[] {
  const rest = fields.filter((f) => !f.startsWith(letter));
  return value === undefined ? rest : [...rest, `${letter}${value}`];
}
