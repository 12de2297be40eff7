// The batch's user list and endpoint templates: which users, and where each one's two Maildirs
// are. A user name comes from a file an admin may not have written (`doveadm user '*'`, an
// export): it is checked before it reaches a path, and never makes one leave its template's
// directory.

import { createHash } from 'node:crypto';
import { MdsyncError } from '../../errors.js';
import { quoted } from '../../printable.js';
import { parseEndpoint } from '../../remote/endpoint.js';

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

/** Longest user name taken (Dovecot's own limit on a user name is smaller). */
const MAX_USER = 255;

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
  if (user.length > MAX_USER) return `the name is over ${MAX_USER} characters`;
  if (user.startsWith('~')) return 'the name starts with "~" (a home directory)';
  if (CONTROL.test(user)) return 'the name holds a control character';
  if (user.includes('/')) return 'the name holds a "/"';
  const at = user.lastIndexOf('@');
  const parts = at < 0 ? [user] : [user.slice(0, at), user.slice(at + 1)];
  if (parts[0] === '') return 'no name before the "@"';
  // `..` as the whole user, its name or its domain would climb out of the template's directory.
  if (parts.some((p) => p === '.' || p === '..') || user === '.' || user === '..') return 'the name, its part before "@" or its domain is "." or ".."';
  return undefined;
}

type Token = { text: string } | { key: 'u' | 'n' | 'd' };

/** A template in literal texts and placeholders; `%%` is a literal `%`, any other `%x` or a lone `%` is refused. */
function tokens(option: string, template: string): Token[] {
  const out: Token[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch !== '%') {
      text += ch;
      continue;
    }
    const next = template[i + 1];
    i++;
    if (next === '%') {
      text += '%';
    } else if (next === 'u' || next === 'n' || next === 'd') {
      if (text !== '') out.push({ text });
      text = '';
      out.push({ key: next });
    } else {
      throw new MdsyncError('USAGE', `${option} ${quoted(template)}: ${next === undefined ? 'a lone %' : `%${next}`} is not %u, %n, %d or %%`);
    }
  }
  if (text !== '') out.push({ text });
  return out;
}

/** A mark no path holds, standing for the user while a template's shape is worked out. */
const MARK = '\u{10FFFF}user\u{10FFFF}';

/** What every user's endpoint must look like: its kind, its host and login, and the directory it stays under. */
export interface TemplateShape {
  option: string;
  template: string;
  kind: 'local' | 'remote';
  /** The host and login as the template names them, or undefined where a placeholder is in them. */
  host?: string;
  login?: string;
  /** The directory before the first placeholder; '' for a remote path relative to the login's home. */
  base: string;
}

function fill(parts: Token[], values: Record<'u' | 'n' | 'd', string>): string {
  return parts.map((t) => ('text' in t ? t.text : values[t.key])).join('');
}

/** Checks a template (it must name the user, with %u, %n or %d) and works out its shape. */
export function checkTemplate(option: string, template: string): TemplateShape {
  const parts = tokens(option, template);
  if (!parts.some((t) => 'key' in t)) throw new MdsyncError('USAGE', `${option} ${quoted(template)} names no user: put %u, %n or %d in it`);
  const probe = parseEndpoint(fill(parts, { u: MARK, n: MARK, d: MARK }));
  const at = probe.path.indexOf(MARK);
  const before = at < 0 ? probe.path : probe.path.slice(0, at);
  const base = before.includes('/') ? before.slice(0, before.lastIndexOf('/')) || '/' : '';
  if (probe.kind === 'local') return { option, template, kind: 'local', base };
  const host = probe.host.includes(MARK) ? undefined : probe.host;
  const login = probe.user?.includes(MARK) ? undefined : probe.user;
  return { option, template, kind: 'remote', host, login, base };
}

export function expandTemplate(template: string, user: string): string {
  const at = user.lastIndexOf('@');
  return fill(tokens('template', template), { u: user, n: at < 0 ? user : user.slice(0, at), d: at < 0 ? '' : user.slice(at + 1) });
}

const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9._-]*)|\[?[0-9A-Fa-f:.]+\]?)$/;
const LOGIN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * Checks that an endpoint has its template's shape: the same kind, the template's host and login
 * (or, where a placeholder names them, a plain host name and login), and a path under the
 * template's fixed directory with no `..` in it. A user's name was checked already; this holds
 * whatever the template's shape, and for a line's own endpoints too.
 */
export function checkShape(shape: TemplateShape, endpoint: string, user: string): void {
  const ep = parseEndpoint(endpoint);
  const refuse = (why: string): never => {
    throw new MdsyncError('BAD_USER', `${shape.option} gives user ${quoted(user)} ${quoted(endpoint)}: ${why}`);
  };
  if (ep.kind !== shape.kind) refuse(`not a ${shape.kind} endpoint as ${quoted(shape.template)} is`);
  if (ep.kind === 'remote') {
    if (shape.host !== undefined ? ep.host !== shape.host : !HOST.test(ep.host)) refuse(`its host is not ${shape.host !== undefined ? quoted(shape.host) : 'a plain host name'}`);
    if (shape.login !== undefined ? ep.user !== shape.login : ep.user !== undefined && !LOGIN.test(ep.user)) refuse(`its login is not ${shape.login !== undefined ? quoted(shape.login) : 'a plain login name'}`);
  }
  const segments = ep.path.split('/');
  if (segments.includes('..') || segments.includes('.')) refuse('its path holds "." or ".."');
  const inside = shape.base === '' ? !ep.path.startsWith('/') && !ep.path.startsWith('~')
    : shape.base === '/' ? ep.path.startsWith('/') && ep.path.length > 1
    : ep.path.startsWith(`${shape.base}/`) && ep.path.length > shape.base.length + 1;
  if (!inside) refuse(`outside ${quoted(shape.base === '' ? 'the login\'s home' : shape.base)}`);
}

/** The endpoint a template gives a user, checked to have the template's shape. */
export function endpointFor(shape: TemplateShape, user: string): string {
  const expanded = expandTemplate(shape.template, user);
  // A user with no domain where the template gives the domain a directory of its own would land
  // one level up, beside (or above) other users' Maildirs: `/srv/%d/%n` and `bob` is `/srv//bob`.
  const at = user.lastIndexOf('@');
  const empty = '\u{10FFFE}';
  const probe = fill(tokens('template', shape.template), { u: user, n: at < 0 ? user : user.slice(0, at), d: at < 0 ? empty : user.slice(at + 1) || empty });
  if (probe.split(/[/:]/).includes(empty)) {
    throw new MdsyncError('BAD_USER', `${shape.option} ${quoted(shape.template)} gives the domain a directory, and user ${quoted(user)} has none`);
  }
  checkShape(shape, expanded, user);
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
