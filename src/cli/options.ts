// Option values from the command line: --max-delete, folder globs, layout, separator.

import { MdsyncError } from '../errors.js';
import type { Layout } from '../model.js';
import type { MaxDelete } from '../sync/guards.js';
import { SEPARATORS, type Separator } from '../local/name.js';

export function parseMaxDelete(text: string): MaxDelete {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  if (!m) throw new MdsyncError('USAGE', `--max-delete takes a number or a percentage (e.g. 500 or 10%), not ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  if (m[2]) {
    if (n > 100) throw new MdsyncError('USAGE', `--max-delete percentage above 100: ${text}`);
    return { percent: n };
  }
  return { count: n };
}

/** A folder glob: `*` within one level, `**` across levels, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The folders `-f` and `-x` select; it remembers which `-f` globs matched a folder it was asked about. */
export interface FolderSelection {
  includes(name: string): boolean;
  /** The `-f` globs that matched no folder so far. */
  unmatched(): string[];
}

export function folderSelection(include: string[], exclude: string[]): FolderSelection {
  const inc = include.map((glob) => ({ glob, re: globToRegExp(glob), matched: false }));
  const exc = exclude.map(globToRegExp);
  return {
    includes(name) {
      // Every glob is tried, not only up to the first match: each must learn whether it matched.
      let selected = inc.length === 0;
      for (const g of inc) {
        if (!g.re.test(name)) continue;
        g.matched = true;
        selected = true;
      }
      return selected && !exc.some((r) => r.test(name));
    },
    unmatched: () => inc.filter((g) => !g.matched).map((g) => g.glob),
  };
}

/** The words naming `-f` globs that matched no folder on either side. */
export function unmatchedGlobs(globs: string[]): string {
  return `${globs.map((g) => `-f ${JSON.stringify(g)}`).join(', ')} ${globs.length === 1 ? 'matches' : 'match'} no folder on either side`;
}

export function parseLayout(text: string | undefined): Layout | undefined {
  if (text === undefined) return undefined;
  if (text === 'maildir++' || text === 'fs') return text;
  throw new MdsyncError('USAGE', `--layout is maildir++ or fs, not ${JSON.stringify(text)}`);
}

export function parseSeparator(text: string | undefined): Separator | undefined {
  if (text === undefined) return undefined;
  if ((SEPARATORS as readonly string[]).includes(text)) return text as Separator;
  throw new MdsyncError('USAGE', `--separator is one of ${SEPARATORS.join(' ')}, not ${JSON.stringify(text)}`);
}

export function parsePositiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new MdsyncError('USAGE', `${name} takes a positive whole number, not ${JSON.stringify(text)}`);
  return n;
}
