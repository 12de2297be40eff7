// Endpoint strings: which are local paths, which name a host, and what user, port and path they carry.

import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEndpoint, parseEndpoint } from '../../../src/remote/endpoint.js';

describe('parseEndpoint', () => {
  it.each([
    ['/abs/Maildir', { kind: 'local', path: '/abs/Maildir' }],
    ['./rel', { kind: 'local', path: resolve('rel') }],
    ['../up', { kind: 'local', path: resolve('../up') }],
    ['~/Maildir', { kind: 'local', path: resolve(homedir(), 'Maildir') }],
    ['plain', { kind: 'local', path: resolve('plain') }],
    ['./odd:name', { kind: 'local', path: resolve('odd:name') }],
    ['host:Maildir', { kind: 'remote', host: 'host', path: 'Maildir' }],
    ['mail.example.org:/var/vmail/a', { kind: 'remote', host: 'mail.example.org', path: '/var/vmail/a' }],
    ['alice@host:~/Maildir', { kind: 'remote', host: 'host', user: 'alice', path: '~/Maildir' }],
    ['ssh://backup@nas:2222/srv/alice', { kind: 'remote', host: 'nas', user: 'backup', port: 2222, path: '/srv/alice' }],
    ['ssh://nas/~/Maildir', { kind: 'remote', host: 'nas', path: '~/Maildir' }],
    ['ssh://u@[::1]:2222/m', { kind: 'remote', host: '::1', user: 'u', port: 2222, path: '/m' }],
    ['[::1]:Maildir', { kind: 'remote', host: '::1', path: 'Maildir' }],
    ['bob@[fe80::1]:/m', { kind: 'remote', host: 'fe80::1', user: 'bob', path: '/m' }],
  ])('%s', (text, expected) => {
    expect(parseEndpoint(text)).toEqual(expected);
  });

  it.each([['', /empty endpoint/], ['host:', /has no path/], ['ssh://host', /needs a host and a path/]])('refuses %j', (text, message) => {
    expect(() => parseEndpoint(text)).toThrow(message);
  });

  it('refuses a host or user an ssh command would take for an option', () => {
    for (const text of ['-oProxyCommand=touch x:/srv', '-oProxyCommand=x@host:/srv', 'ssh://-oProxyCommand@host/srv']) {
      expect(() => parseEndpoint(text), text).toThrow('a host or user may not start with "-"');
    }
  });

  it('describes a remote endpoint the way it was written', () => {
    expect(describeEndpoint(parseEndpoint('ssh://backup@nas:2222/srv/alice'))).toBe('backup@nas:2222:/srv/alice');
  });
});
