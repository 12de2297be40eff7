// The report file: the side-by-side part and the scale section, each kept when a run does not redo it.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const SCALE_START = '<!-- scale:start -->';
const SCALE_END = '<!-- scale:end -->';

interface Parts {
  body?: string;
  scale?: string;
}

function split(text: string): Parts {
  const start = text.indexOf(SCALE_START);
  const end = text.indexOf(SCALE_END);
  if (start < 0 || end < start) return { body: text.trim() || undefined };
  return {
    body: (text.slice(0, start) + text.slice(end + SCALE_END.length)).trim() || undefined,
    scale: text.slice(start + SCALE_START.length, end).trim() || undefined,
  };
}

/** Writes `path` with the parts given; a part left undefined is kept from the file as it was. */
export function writeReport(path: string, fresh: Parts): void {
  const old = existsSync(path) ? split(readFileSync(path, 'utf8')) : {};
  const body = fresh.body ?? old.body ?? '# mdsync benchmark';
  const scale = fresh.scale ?? old.scale;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${body.trim()}\n${scale ? `\n${SCALE_START}\n${scale.trim()}\n${SCALE_END}\n` : ''}`);
}
