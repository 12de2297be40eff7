// What ~/.ssh/config says about a host: HostName, User, Port, IdentityFile, UserKnownHostsFile.

import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import { MdsyncError, isErrno } from '../errors.js';

export interface HostSettings {
  hostName: string;
  user?: string;
  port?: number;
  /** Key files to try: the configured ones, or OpenSSH's defaults when none is configured. */
  identityFiles: string[];
  userKnownHostsFiles: string[];
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const DEFAULT_KNOWN_HOSTS = ['known_hosts', 'known_hosts2'];

/** `~` and the `%` tokens OpenSSH expands in file names (ssh_config(5) TOKENS). */
function expandPath(value: string, tokens: Record<string, string>): string {
  const expanded = value.replace(/%([%hprud])/g, (_, t: string) => (t === '%' ? '%' : tokens[t] ?? ''));
  if (expanded === '~') return homedir();
  if (expanded.startsWith('~/')) return join(homedir(), expanded.slice(2));
  return isAbsolute(expanded) ? expanded : join(homedir(), '.ssh', expanded);
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const first = (v: string | string[] | undefined): string | undefined => list(v)[0];

/**
 * Computes the settings for `host` as OpenSSH does: the first value obtained wins, `Host` patterns
 * with `*`, `?` and `!`. `Match` blocks other than `Match exec` are honoured by the parser;
 * `Match exec` is not run, and `Include` is not followed.
 */
export async function resolveHost(host: string, configPath: string | undefined): Promise<HostSettings> {
  const path = configPath ?? join(homedir(), '.ssh', 'config');
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw new MdsyncError('SSH_CONFIG', `cannot read ${path}: ${(err as Error).message}`);
  }
  let computed: Record<string, string | string[]>;
  try {
    computed = SSHConfig.parse(text).compute(host, { ignoreCase: true, matchExec: false });
  } catch (err) {
    throw new MdsyncError('SSH_CONFIG', `${path}: ${(err as Error).message}`);
  }
  const hostName = (first(computed.hostname) ?? host).replace(/%h/g, host);
  const settings: HostSettings = { hostName, identityFiles: [], userKnownHostsFiles: [] };
  const user = first(computed.user);
  if (user) settings.user = user;
  const port = first(computed.port);
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new MdsyncError('SSH_CONFIG', `${path}: Port ${JSON.stringify(port)} for ${host} is not a port number`);
    settings.port = n;
  }
  const tokens = { h: hostName, p: String(settings.port ?? 22), r: settings.user ?? userInfo().username, u: userInfo().username, d: homedir() };
  const keys = list(computed.identityfile).map((f) => expandPath(f, tokens));
  // As OpenSSH: the default key files only when the config names none.
  settings.identityFiles = keys.length > 0 ? keys : DEFAULT_KEYS.map((k) => join(homedir(), '.ssh', k));
  const known = list(computed.userknownhostsfile).flatMap((v) => v.split(/\s+/)).filter(Boolean).map((f) => expandPath(f, tokens));
  settings.userKnownHostsFiles = known.length > 0 ? known : DEFAULT_KNOWN_HOSTS.map((k) => join(homedir(), '.ssh', k));
  return settings;
}
