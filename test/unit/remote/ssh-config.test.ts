// ~/.ssh/config for a host: first value wins, Host patterns, tokens and defaults as OpenSSH reads them.

import { writeFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveHost } from '../../../src/remote/ssh-config.js';
import { removeDir, tempDir } from '../../helpers/maildir.js';

let dir: string;
let config: string;

beforeEach(async () => {
  dir = await tempDir();
  config = join(dir, 'config');
});

afterEach(async () => {
  await removeDir(dir);
});

describe('resolveHost', () => {
  it('uses the first value obtained, across Host blocks', async () => {
    await writeFile(config, 'Host mail\n  HostName mail.example.org\n  Port 2222\n\nHost *\n  User fallback\n  Port 22\n');
    expect(await resolveHost('mail', config)).toMatchObject({ hostName: 'mail.example.org', port: 2222, user: 'fallback' });
    expect(await resolveHost('other', config)).toMatchObject({ hostName: 'other', port: 22, user: 'fallback' });
  });

  it('matches wildcard patterns and excludes negated ones', async () => {
    await writeFile(config, 'Host *.lan !printer.lan\n  User lanuser\nHost nas?\n  Port 2200\n');
    expect((await resolveHost('box.lan', config)).user).toBe('lanuser');
    expect((await resolveHost('printer.lan', config)).user).toBeUndefined();
    expect((await resolveHost('nas1', config)).port).toBe(2200);
    expect((await resolveHost('nas12', config)).port).toBeUndefined();
  });

  it('expands ~ and %h, %p, %r in IdentityFile and UserKnownHostsFile', async () => {
    await writeFile(config, 'Host mail\n  HostName m.example.org\n  User alice\n  Port 2222\n  IdentityFile ~/.ssh/%r@%h\n  IdentityFile /keys/%h-%p\n  UserKnownHostsFile ~/kh/%h /etc/kh\n');
    const s = await resolveHost('mail', config);
    expect(s.identityFiles).toEqual([join(homedir(), '.ssh', 'alice@m.example.org'), '/keys/m.example.org-2222']);
    expect(s.userKnownHostsFiles).toEqual([join(homedir(), 'kh', 'm.example.org'), '/etc/kh']);
  });

  it('falls back to OpenSSH defaults when nothing is configured (and when there is no config file)', async () => {
    const s = await resolveHost('host', join(dir, 'missing'));
    expect(s).toEqual({
      hostName: 'host',
      identityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(homedir(), '.ssh', k)),
      userKnownHostsFiles: ['known_hosts', 'known_hosts2'].map((k) => join(homedir(), '.ssh', k)),
    });
    expect(userInfo().username).toBeTruthy();
  });

  it('names the file when a Port is not a port', async () => {
    await writeFile(config, 'Host x\n  Port ssh\n');
    await expect(resolveHost('x', config)).rejects.toThrow(`${config}: Port "ssh" for x is not a port number`);
  });
});
