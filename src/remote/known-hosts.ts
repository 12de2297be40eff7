// Host key verification against OpenSSH known_hosts files: plain, hashed `|1|`, `[host]:port`, markers.

import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';

export type HostKeyCheck =
  | { status: 'known' }
  | { status: 'unknown'; otherTypes: string[] }
  | { status: 'changed'; file: string; line: number; keyType: string; expected: string }
  | { status: 'revoked'; file: string; line: number };

interface Entry {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** The name looked up: `host` on port 22, `[host]:port` otherwise (OpenSSH's rule). */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type is the first length-prefixed string of the SSH wire blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return length > 0 && length < 64 && blob.length >= 4 + length ? blob.subarray(4, 4 + length).toString('latin1') : 'unknown';
}

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

async function readEntries(files: string[]): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) continue;
      throw new MdsyncError('IO', `cannot read ${file}: ${(err as Error).message}`);
    }
    text.split('\n').forEach((raw, i) => {
      const fields = raw.trim().split(/\s+/);
      if (fields[0] === '' || fields[0]?.startsWith('#')) return;
      let marker: Entry['marker'];
      if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = (fields.shift() as string).slice(1) as Entry['marker'];
      const [hosts, keyType, base64] = fields;
      if (!hosts || !keyType || !base64) return;
      const key = Buffer.from(base64, 'base64');
      if (key.length === 0) return;
      entries.push({ file, line: i + 1, marker, hosts, keyType, key });
    });
  }
  return entries;
}

/** OpenSSH wildcard match: `*` any run, `?` one character; case-insensitive like host names. */
function matchPattern(name: string, pattern: string): boolean {
  const re = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name.toLowerCase());
}

/** Does a host field (a pattern list or one hashed name) name this host? A negated match excludes it. */
function matchHosts(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (matchPattern(name, pattern.slice(1))) return false;
    } else if (matchPattern(name, pattern)) {
      matched = true;
    }
  }
  return matched;
}

export async function checkHostKey(files: string[], host: string, port: number, key: Buffer): Promise<HostKeyCheck> {
  const name = hostKeyName(host, port);
  const keyType = keyTypeOf(key);
  const entries = await readEntries(files);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line };
  const mine = entries.filter((e) => e.marker === undefined && matchHosts(e.hosts, name));
  if (mine.some((e) => e.key.equals(key))) return { status: 'known' };
  const sameType = mine.find((e) => keyTypeOf(e.key) === keyType);
  if (sameType) return { status: 'changed', file: sameType.file, line: sameType.line, keyType, expected: fingerprint(sameType.key) };
  return { status: 'unknown', otherTypes: [...new Set(mine.map((e) => keyTypeOf(e.key)))] };
}

/** Key types recorded for the host, so the client can ask the server for one of them first. */
export async function knownKeyTypes(files: string[], host: string, port: number): Promise<string[]> {
  const name = hostKeyName(host, port);
  const entries = await readEntries(files);
  return [...new Set(entries.filter((e) => e.marker === undefined && matchHosts(e.hosts, name)).map((e) => keyTypeOf(e.key)))];
}

/** Records a host key as OpenSSH's `accept-new` does: one plain line appended (file 0600, directory 0700). */
export async function appendHostKey(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const size = (await stat(file)).size;
    if (size > 0 && !(await readFile(file, 'utf8')).endsWith('\n')) prefix = '\n';
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  await appendFile(file, `${prefix}${hostKeyName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}

function typeLabel(keyType: string): string {
  const short = keyType.replace(/^ssh-/, '').replace(/^ecdsa-sha2-.*/, 'ecdsa').replace(/-.*$/, '');
  return short.toUpperCase();
}

/** The user-facing refusal, worded like OpenSSH's. */
export function hostKeyError(check: Exclude<HostKeyCheck, { status: 'known' }>, host: string, port: number, key: Buffer, knownHostsFile: string): MdsyncError {
  const name = hostKeyName(host, port);
  const type = typeLabel(keyTypeOf(key));
  switch (check.status) {
    case 'changed':
      return new MdsyncError('HOST_KEY_CHANGED', [
        'WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!',
        'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
        'It is also possible that a host key has just been changed.',
        `The ${type} host key for ${name} has changed: it is now ${fingerprint(key)}, ${check.file} records ${check.expected}.`,
        `Offending ${type} key in ${check.file}:${check.line}`,
        `Host key verification failed: nothing was read or written. If the change is expected, remove the old key with: ssh-keygen -R '${name}' -f ${check.file}`,
      ].join('\n'));
    case 'revoked':
      return new MdsyncError('HOST_KEY_REVOKED', `the ${type} host key for ${name} (${fingerprint(key)}) is marked as revoked in ${check.file}:${check.line}: refused`);
    case 'unknown': {
      const others = check.otherTypes.length > 0 ? ` (${check.otherTypes.map(typeLabel).join(', ')} keys are known for it)` : '';
      return new MdsyncError('HOST_KEY_UNKNOWN', `the authenticity of host ${name} cannot be established: its ${type} key ${fingerprint(key)} is not in ${knownHostsFile}${others}; check the fingerprint, then run again with --accept-new-host-key to record it`);
    }
  }
}
