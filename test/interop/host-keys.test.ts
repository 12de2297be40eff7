// The built-in SSH client's host key policy and ~/.ssh/config, against a real sshd on 127.0.0.1.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/remote/known-hosts.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeMaildir, message, readTree, removeDir, tempDir } from '../helpers/maildir.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { SSH_KEYGEN, type TestSshd } from '../helpers/sshd.js';
import { REMOTE_PATH } from '../helpers/transports.js';

let sshd: TestSshd;
let work: string;
let src: string;
let dst: string;
let knownHosts: string;

describe('host keys and ~/.ssh/config with the built-in client', () => {
  const server = useSshd();

  beforeEach(async () => {
    sshd = server();
    work = await tempDir();
    src = join(work, 'src');
    dst = join(work, 'dst');
    knownHosts = join(work, '.ssh', 'known_hosts');
    await makeMaildir(src, [{ dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] }]);
    await mkdir(join(work, '.ssh'), { recursive: true, mode: 0o700 });
  });

  afterEach(async () => {
    await removeDir(work);
  });

  const backup = (...extra: string[]): Promise<CliResult> =>
    runCli(['backup', src, `ssh://${sshd.user}@127.0.0.1:${sshd.port}${dst}`, '-i', sshd.clientKey, '--remote-path', REMOTE_PATH, ...extra], work, { SSH_AUTH_SOCK: '' });

  it('accepts a known key (plain entry) and copies', async () => {
    await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
    const r = await backup();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await readTree(dst)).map((f) => f.path.replace(/,S=\d+/, ''))).toContain('cur/1600000001.M1P1.host:2,S');
  });

  it('accepts a known key recorded as a hashed entry (ssh-keygen -H)', async () => {
    await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
    execFileSync(SSH_KEYGEN, ['-q', '-H', '-f', knownHosts]);
    expect(await readFile(knownHosts, 'utf8')).toMatch(/^\|1\|/);
    const r = await backup();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('refuses an unknown host, writes nothing; --accept-new-host-key records it as OpenSSH finds it', async () => {
    const r = await backup();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the authenticity of host [127.0.0.1]:${sshd.port} cannot be established: its ED25519 key ${fingerprint(sshd.hostKeyBlob)} is not in ${knownHosts}`);
    expect(r.stderr).toContain('--accept-new-host-key');
    expect(existsSync(dst)).toBe(false);

    const accepted = await backup('--accept-new-host-key');
    expect(accepted.code).toBe(0);
    const line = `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub.split(' ').slice(0, 2).join(' ')}`;
    expect(await readFile(knownHosts, 'utf8')).toBe(`${line}\n`);
    // OpenSSH's own tool finds the recorded key.
    expect(execFileSync(SSH_KEYGEN, ['-F', `[127.0.0.1]:${sshd.port}`, '-f', knownHosts]).toString()).toContain(line);
    expect((await backup()).code).toBe(0);
  });

  it('refuses a changed key, naming the file and line, with nothing written on either side', async () => {
    execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'other')]);
    const otherPub = (await readFile(join(work, 'other.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(knownHosts, `# a comment\nexample.org ${otherPub}\n[127.0.0.1]:${sshd.port} ${otherPub}\n`);
    const before = await readTree(src);
    const stateBefore = await readTree(work).then((t) => t.filter((f) => f.path.startsWith('state/')));
    for (const extra of [[], ['--accept-new-host-key']]) {
      const r = await backup(...extra);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!');
      expect(r.stderr).toContain(`Offending ED25519 key in ${knownHosts}:3`);
      expect(r.stderr).toContain(`it is now ${fingerprint(sshd.hostKeyBlob)}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(dst)).toBe(false);
    expect(await readTree(src)).toEqual(before);
    expect(await readTree(work).then((t) => t.filter((f) => f.path.startsWith('state/')))).toEqual(stateBefore);
    expect(await readFile(knownHosts, 'utf8')).not.toContain(sshd.hostKeyPub.split(' ')[1]);
  });

  it('reads ~/.ssh/config: a Host alias with HostName, Port, User and IdentityFile', async () => {
    await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
    await writeFile(join(work, '.ssh', 'config'), [
      'Host other',
      '  HostName 192.0.2.1',
      `Host mail-*.test !mail-old.test`,
      '  HostName 127.0.0.1',
      `  Port ${sshd.port}`,
      `  User ${sshd.user}`,
      `  IdentityFile ${sshd.clientKey}`,
      'Host *',
      '  Port 1',
      '',
    ].join('\n'));
    const r = await runCli(['backup', src, `mail-new.test:${dst}`, '--remote-path', REMOTE_PATH], work, { SSH_AUTH_SOCK: '' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const verify = await runCli(['verify', src, `mail-new.test:${dst}`, '--remote-path', REMOTE_PATH], work, { SSH_AUTH_SOCK: '' });
    expect(verify.stdout).toContain('identical: 1 folder, 1 message');
  });

  it('logs in with a key held by ssh-agent (SSH_AUTH_SOCK), no key file needed', async () => {
    await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
    const socket = join(work, 'agent.sock');
    const agent = execFileSync('ssh-agent', ['-a', socket, '-s']).toString();
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent)?.[1];
    try {
      execFileSync('ssh-add', ['-q', sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      const r = await runCli(['backup', src, `ssh://${sshd.user}@127.0.0.1:${sshd.port}${dst}`, '--remote-path', REMOTE_PATH], work, { SSH_AUTH_SOCK: socket });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      if (pid) process.kill(Number(pid));
    }
  });

  it('says which keys it tried when the login is refused', async () => {
    await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
    execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, '.ssh', 'id_ed25519')]);
    const r = await runCli(['backup', src, `ssh://${sshd.user}@127.0.0.1:${sshd.port}${dst}`, '--remote-path', REMOTE_PATH], work, { SSH_AUTH_SOCK: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${sshd.user}@127.0.0.1:${sshd.port}: permission denied (tried ${join(work, '.ssh', 'id_ed25519')})`);
  });

  it('names a missing -i file', async () => {
    const r = await backup('-i', join(work, 'nope'));
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`identity file ${join(work, 'nope')}: not found`);
  });

  it('explains exit 127 from the remote shell with --remote-path', async () => {
    await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
    const r = await runCli(['backup', src, `ssh://${sshd.user}@127.0.0.1:${sshd.port}${dst}`, '-i', sshd.clientKey, '--remote-path', '/nonexistent/mdsync'], work, { SSH_AUTH_SOCK: '' });
    expect(r.code).toBe(1);
    // One line: the remote shell's complaint quoted, then what to do.
    expect(r.stderr).toMatch(/^mdsync: [^\n]*: remote command exited with code 127: "[^\n"]*\/nonexistent\/mdsync[^\n"]*" \(install mdsync there or name it with --remote-path\)\n$/);
  });
});
