// `mdsync batch` to a real sshd on 127.0.0.1 through the built-in client: one SSH connection
// carries the whole batch (sshd's log counts the logins), a second opens past sshd's MaxSessions,
// and every user is exact after.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { ssh2Transport } from '../helpers/ssh-transports.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

describe('mdsync batch over SSH', () => {
  const server = useSshd();
  const transport = ssh2Transport(server);

  async function logins(): Promise<number> {
    return ((await readFile(server().logFile, 'utf8')).match(/Accepted publickey for /g) ?? []).length;
  }

  async function setUp(count: number): Promise<{ users: string[]; list: string; home: string }> {
    const home = join(work, 'home');
    await transport.prepare?.(home);
    const users = Array.from({ length: count }, (_, i) => `user${i}@example.org`);
    for (const [i, user] of users.entries()) {
      await makeMaildir(join(work, 'old', user.split('@')[0] as string), [
        { dir: '', messages: [message(`1600000${i}1.M1P${i}.host`, `${user} one`, { flags: 'S' }), message(`1600000${i}2.M2P${i}.host`, `${user} two`, { location: 'new' })] },
        { dir: '.Archive', messages: [message(`1600000${i}3.M3P${i}.host`, `${user} three`, { flags: 'FS' })] },
      ]);
    }
    const list = join(work, 'users');
    await import('node:fs/promises').then((fs) => fs.writeFile(list, users.join('\n') + '\n'));
    return { users, list, home };
  }

  async function expectExact(user: string): Promise<void> {
    const n = user.split('@')[0] as string;
    const strip = (files: Awaited<ReturnType<typeof messageFiles>>): unknown[] => files.map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));
    const old = await messageFiles(join(work, 'old', n));
    expect(old).toHaveLength(3);
    expect(strip(await messageFiles(join(work, 'new', 'example.org', n))), user).toEqual(strip(old));
  }

  it('backs up 30 users over one connection, each user a session of it, and verifies them over it', async () => {
    const { users, list, home } = await setUp(30);
    const to = transport.endpoint(join(work, 'new', '%d', '%n'));
    const before = await logins();
    const r = await runCli(['batch', 'backup', '--users', list, '--from', join(work, 'old', '%n'), '--to', to, '--mkpath', '--jobs', '8', ...transport.args], home, { SSH_AUTH_SOCK: '' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('30 of 30 users done, 0 failed');
    expect(await logins()).toBe(before + 1);
    for (const user of users) await expectExact(user);

    const v = await runCli(['batch', 'verify', '--users', list, '--from', join(work, 'old', '%n'), '--to', to, '--jobs', '8', ...transport.args], home, { SSH_AUTH_SOCK: '' });
    expect(v.stdout.trim()).toBe('30 of 30 mailboxes identical');
    expect(v.code).toBe(0);
    expect(await logins()).toBe(before + 2);
  });

  it('opens another connection past sshd\'s MaxSessions, and says so', async () => {
    const { users, list, home } = await setUp(24);
    const to = transport.endpoint(join(work, 'new', '%d', '%n'));
    const before = await logins();
    const r = await runCli(['batch', 'backup', '--users', list, '--from', join(work, 'old', '%n'), '--to', to, '--mkpath', '--jobs', '12', ...transport.args], home, { SSH_AUTH_SOCK: '' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('more sessions in flight than one SSH connection carries (sshd\'s MaxSessions, 10 by default): opening connection 2');
    expect(await logins()).toBe(before + 2);
    for (const user of users) await expectExact(user);
  });
});
