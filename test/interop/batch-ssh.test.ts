// `mdsync batch` to a real sshd on 127.0.0.1 through the built-in client: one SSH connection and
// one far `mdsync serve --sessions` carry the whole batch (sshd's log counts the logins and the
// sessions), a far side that dies costs only a re-run of its users, and every user is exact after.

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, message, messageContents, removeDir, tempDir } from '../helpers/maildir.js';
import { REMOTE_PATH } from '../helpers/transports.js';
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
    const old = await messageContents(join(work, 'old', n));
    expect(old).toHaveLength(3);
    expect(await messageContents(join(work, 'new', 'example.org', n)), user).toEqual(old);
  }

  it('backs up 30 users over one connection, each user a session of it, and verifies them over it', async () => {
    const { users, list, home } = await setUp(30);
    const to = transport.endpoint(join(work, 'new', '%d', '%n'));
    const before = await logins();
    const sessions = await sessionsStarted();
    const r = await runCli(['batch', 'backup', '--users', list, '--from', join(work, 'old', '%n'), '--to', to, '--mkpath', '--jobs', '8', ...transport.args], home, { SSH_AUTH_SOCK: '' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('30 of 30 users done, 0 failed');
    expect(await logins()).toBe(before + 1);
    for (const user of users) await expectExact(user);
    expect(await sessionsStarted()).toBe(sessions + 1);

    const v = await runCli(['batch', 'verify', '--users', list, '--from', join(work, 'old', '%n'), '--to', to, '--jobs', '8', ...transport.args], home, { SSH_AUTH_SOCK: '' });
    expect(v.stdout.trim()).toBe('30 of 30 mailboxes identical');
    expect(v.code).toBe(0);
    expect(await logins()).toBe(before + 2);
    expect(await sessionsStarted()).toBe(sessions + 2);
  });

  it('starts one mdsync serve for the whole batch, and runs once more the users a far side that died cut short', async () => {
    const home = join(work, 'home');
    await transport.prepare?.(home);
    const users = Array.from({ length: 20 }, (_, i) => `user${i}@example.org`);
    for (const [i, user] of users.entries()) await makeMaildir(join(work, 'old', user.split('@')[0] as string), [bulkFolder('', i * 100, 12)]);
    const list = join(work, 'users');
    await writeFile(list, users.join('\n') + '\n');
    const joblog = join(work, 'joblog');
    const mark = `MDSYNC_BATCH_TEST=${process.pid}-${Date.now()}`;
    const sessionsBefore = await sessionsStarted();
    const args = ['batch', 'backup', '--users', list, '--from', join(work, 'old', '%n'), '--to', transport.endpoint(join(work, 'new', '%d', '%n')), '--mkpath', '--jobs', '4', '--bwlimit', '100K', '--joblog', joblog,
      ...transport.args.map((a) => (a === REMOTE_PATH ? `env ${mark} ${REMOTE_PATH}` : a))];
    const run = runCli(args, home, { SSH_AUTH_SOCK: '' });
    // Once a few users are done, the far `serve --sessions` is killed under the users in flight.
    let killed = 0;
    for (let i = 0; i < 400 && killed === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if ((await readFile(joblog, 'utf8').catch(() => '')).split('\n').length < 5) continue;
      for (const pid of await farServes(mark)) {
        process.kill(pid, 'SIGKILL');
        killed++;
      }
    }
    const r = await run;
    expect(killed).toBe(1);
    expect(r.stderr).toMatch(/running it once more/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('20 of 20 users done, 0 failed');
    for (const user of users) {
      const n = user.split('@')[0] as string;
      expect(await messageContents(join(work, 'new', 'example.org', n)), user).toEqual(await messageContents(join(work, 'old', n)));
    }
    // The one serve, and the one started after it was killed.
    expect(await sessionsStarted()).toBe(sessionsBefore + 2);
  });

  async function sessionsStarted(): Promise<number> {
    return ((await readFile(server().logFile, 'utf8')).match(/Starting session: command for /g) ?? []).length;
  }
});

/** The far `mdsync serve --sessions` processes started with this mark in their environment. */
async function farServes(mark: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const [cmdline, environ] = await Promise.all([readFile(`/proc/${entry}/cmdline`, 'utf8'), readFile(`/proc/${entry}/environ`, 'utf8')]).catch(() => ['', '']);
    if (cmdline.split('\0').includes('--sessions') && environ.split('\0').includes(mark)) pids.push(Number(entry));
  }
  return pids;
}
