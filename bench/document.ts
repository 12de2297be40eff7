// The report file: the side-by-side part, the scale section, the small-mailbox and the
// many-mailboxes sections, each kept when a run does not redo it.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const SECTIONS = ['small', 'batch', 'scale'] as const;
type Section = (typeof SECTIONS)[number];

interface Parts {
  body?: string;
  scale?: string;
  small?: string;
  batch?: string;
}

const marks = (name: Section): [string, string] => [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];

function split(text: string): Parts {
  const parts: Parts = {};
  let rest = text;
  for (const name of SECTIONS) {
    const [open, close] = marks(name);
    const start = rest.indexOf(open);
    const end = rest.indexOf(close);
    if (start < 0 || end < start) continue;
    parts[name] = rest.slice(start + open.length, end).trim() || undefined;
    rest = rest.slice(0, start) + rest.slice(end + close.length);
  }
  parts.body = rest.trim() || undefined;
  return parts;
}

/** Writes `path` with the parts given; a part left undefined is kept from the file as it was. */
export function writeReport(path: string, fresh: Parts): void {
  const old = existsSync(path) ? split(readFileSync(path, 'utf8')) : {};
  const body = fresh.body ?? old.body ?? '# mdsync benchmark';
  let text = `${body.trim()}\n`;
  for (const name of SECTIONS) {
    const part = fresh[name] ?? old[name];
    const [open, close] = marks(name);
    if (part) text += `\n${open}\n${part.trim()}\n${close}\n`;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
