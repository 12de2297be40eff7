// Endpoint strings: local paths ("/abs", "./rel", "~/x") and remote ones ("host:path", "ssh://user@host:port/path").

import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { MdsyncError } from '../errors.js';

export type Endpoint =
  | { kind: 'local'; path: string }
  | { kind: 'remote'; host: string; user?: string; port?: number; path: string };

export function parseEndpoint(text: string): Endpoint {
  if (text === '') throw new MdsyncError('USAGE', 'empty endpoint');
  if (text.startsWith('ssh://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new MdsyncError('USAGE', `not an ssh:// URL: ${text}`);
    }
    const path = decodeURIComponent(url.pathname).replace(/^\/~\//, '~/');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host || path === '' ) throw new MdsyncError('USAGE', `an ssh:// endpoint needs a host and a path: ${text}`);
    const ep: Endpoint = { kind: 'remote', host, path };
    if (url.username) ep.user = decodeURIComponent(url.username);
    refuseOptionLike(ep, text);
    if (url.port) ep.port = Number(url.port);
    return ep;
  }
  if (text.startsWith('/') || text.startsWith('./') || text.startsWith('../') || text === '.' || text === '~' || text.startsWith('~/')) {
    return { kind: 'local', path: expandHome(text) };
  }
  const v6 = /^(?:([^@/]+)@)?\[([0-9A-Fa-f:.]+)\]:(.*)$/.exec(text);
  if (v6) return remote(v6[1], v6[2] as string, v6[3] as string, text);
  const scp = /^(?:([^@/:]+)@)?([^/:@]+):(.*)$/.exec(text);
  if (scp) return remote(scp[1], scp[2] as string, scp[3] as string, text);
  return { kind: 'local', path: resolve(text) };
}

function remote(user: string | undefined, host: string, path: string, text: string): Endpoint {
  if (path === '') throw new MdsyncError('USAGE', `remote endpoint ${text} has no path`);
  const ep: Endpoint = { kind: 'remote', host, path };
  if (user) ep.user = user;
  refuseOptionLike(ep, text);
  return ep;
}

/** A host or login starting with `-` would reach an ssh command (-e) as an option (`-oProxyCommand=…`). */
function refuseOptionLike(ep: { host: string; user?: string }, text: string): void {
  if (ep.host.startsWith('-') || ep.user?.startsWith('-')) throw new MdsyncError('USAGE', `remote endpoint ${text}: a host or user may not start with "-"`);
}

function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return resolve(p);
}

export function describeEndpoint(ep: Endpoint): string {
  if (ep.kind === 'local') return ep.path;
  return `${ep.user ? `${ep.user}@` : ''}${ep.host}${ep.port ? `:${ep.port}` : ''}:${ep.path}`;
}
