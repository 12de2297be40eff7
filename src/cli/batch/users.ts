// The batch's user list and endpoint templates: which users, and where each one's two Maildirs
// are. A user name comes from a file an admin may not have written (`doveadm user '*'`, an
// export): it is checked before it reaches a path, and never makes one leave its template's
// directory.

import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { MdsyncError } from '../../errors.js';
import { quoted } from '../../printable.js';
import { describeEndpoint, parseEndpoint } from '../../remote/endpoint.js';

export interface BatchUser {
  user: string;
  /** Its line in the list (1-based). */
  line: number;
  /** The line's own source and destination, when it names them (tab-separated after the user). */
  from?: string;
  to?: string;
}

/** A line that names no usable user: reported, never run. */
export interface RefusedLine {
  line: number;
  /** The user as the line gives it (quote it before printing: it may hold anything). */
  user: string;
  message: string;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * `alice@example.org`, or `alice@example.org<TAB>/old/alice<TAB>newhost:/srv/alice`; blank lines
 * and `#` comments are skipped. A user listed twice is refused the second time: two runs of one
 * pair at once would take each other's lock.
 */
export function parseUserList(text: string): { users: BatchUser[]; refused: RefusedLine[] } {
  const users: BatchUser[] = [];
  const refused: RefusedLine[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '' || text.trimStart().startsWith('#')) continue;
    const fields = text.split('\t');
    const user = (fields[0] as string).trim();
    if (fields.length !== 1 && fields.length !== 3) {
      refused.push({ line, user, message: `${fields.length} tab-separated fields: a user alone, or a user, a source and a destination` });
      continue;
    }
    const problem = userNameProblem(user);
    if (problem !== undefined) {
      refused.push({ line, user, message: problem });
      continue;
    }
    const earlier = seen.get(user);
    if (earlier !== undefined) {
      refused.push({ line, user, message: `listed already on line ${earlier}` });
      continue;
    }
    seen.set(user, line);
    const entry: BatchUser = { user, line };
    if (fields.length === 3) {
      const [from, to] = [fields[1] as string, fields[2] as string];
      const bad = [from, to].find((e) => e === '' || CONTROL.test(e));
      if (bad !== undefined) {
        refused.push({ line, user, message: `its ${bad === from ? 'source' : 'destination'} is ${bad === '' ? 'empty' : `not printable: ${quoted(bad)}`}` });
        continue;
      }
      entry.from = from;
      entry.to = to;
    }
    users.push(entry);
  }
  return { users, refused };
}

/** Why a user name cannot be put into a path, if it cannot. */
export function userNameProblem(user: string): string | undefined {
  if (user === '') return 'no user name';
  if (CONTROL.test(user)) return 'the name holds a control character';
  if (user.includes('/')) return 'the name holds a "/"';
  const at = user.lastIndexOf('@');
  const parts = at < 0 ? [user] : [user.slice(0, at), user.slice(at + 1)];
  if (parts[0] === '') return 'no name before the "@"';
  // `..` as the whole user, its name or its domain would climb out of the template's directory.
  if (parts.some((p) => p === '.' || p === '..') || user === '.' || user === '..') return 'the name, its part before "@" or its domain is "." or ".."';
  return undefined;
}

/** `%u` the user, `%n` before the last `@`, `%d` after it (empty if none), `%%` a `%`; any other `%x` is refused. */
export function checkTemplate(option: string, template: string): void {
  const bad = /%[^und%]|%$/.exec(template);
  if (bad) throw new MdsyncError('USAGE', `${option} ${quoted(template)}: ${bad[0]} is not %u, %n, %d or %%`);
  if (!/%[und]/.test(template)) throw new MdsyncError('USAGE', `${option} ${quoted(template)} names no user: put %u, %n or %d in it`);
  parseEndpoint(template.replace(/%[und]/g, 'x'));
}

/** The template's text before its first placeholder of the user, `%%` read as `%`. */
function fixedPart(template: string): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const next = template[i + 1];
    if (next === 'u' || next === 'n' || next === 'd') break;
    out += '%';
    i++;
  }
  return out;
}

export function expandTemplate(template: string, user: string): string {
  const at = user.lastIndexOf('@');
  const values: Record<string, string> = { u: user, n: at < 0 ? user : user.slice(0, at), d: at < 0 ? '' : user.slice(at + 1), '%': '%' };
  return template.replace(/%([und%])/g, (_, key: string) => values[key] as string);
}

/**
 * The endpoint a template gives a user, checked to stay under the template's fixed directory (the
 * part before its first `%`): the user's name was checked already, this holds whatever the
 * template's shape.
 */
export function endpointFor(option: string, template: string, user: string): string {
  const expanded = expandTemplate(template, user);
  const endpoint = parseEndpoint(expanded);
  const fixedText = fixedPart(template);
  let fixed = '/';
  try {
    fixed = parseEndpoint(fixedText).path;
  } catch {
    // Nothing fixed before the user (`%d:/srv/%n`, `host:%n`): the whole path is the user's.
  }
  const base = fixedText.endsWith('/') ? fixed : posix.dirname(fixed);
  const inside = posix.relative(posix.resolve('/', base), posix.resolve('/', endpoint.path));
  if (inside === '' || inside.startsWith('..')) {
    throw new MdsyncError('BAD_USER', `${option} gives user ${quoted(user)} the path ${quoted(describeEndpoint(endpoint))}, outside ${quoted(base)}`);
  }
  if (endpoint.kind === 'remote' && CONTROL.test(endpoint.host)) throw new MdsyncError('BAD_USER', `${option} gives user ${quoted(user)} a host that is not printable`);
  return expanded;
}

/** Which of N shards a user falls in: the first 32 bits of the SHA-256 of its name, modulo N (the same on every machine). */
export function shardOf(user: string, shards: number): number {
  return createHash('sha256').update(user, 'utf8').digest().readUInt32BE(0) % shards;
}

/** `--shard I/N`: this machine takes the users of shard I of N (0 ≤ I < N). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new MdsyncError('USAGE', `--shard takes I/N with 0 <= I < N (e.g. 0/4), not ${quoted(text)}`);
  return { index, count };
}
