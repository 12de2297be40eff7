// `mdsync batch`: many users' Maildirs in Dovecot's %d/%n layout, run by the real program in one
// process; every user checked file by file afterwards, as an admin signing off a migration would.

import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, message, messageContents, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';
import { quoted } from '../../src/printable.js';
import { shardOf } from '../../src/cli/batch/users.js';

let work: string;
let home: string;

beforeEach(async () => {
  work = await tempDir();
  home = join(work, 'home');
  await mkdir(home);
});

afterEach(async () => {
  await removeDir(work);
});

const DOMAINS = ['example.org', 'example.net', 'mail.example.com'];

function userName(i: number): string {
  return `user${i}@${DOMAINS[i % DOMAINS.length]}`;
}

function oldMaildir(user: string): string {
  const [n, d] = user.split('@') as [string, string];
  return join(work, 'old', d, n, 'Maildir');
}

function newMaildir(user: string): string {
  const [n, d] = user.split('@') as [string, string];
  return join(work, 'new', d, n);
}

/** A small Maildir per user: INBOX (read, unread, flagged, one in new/) and Sent, subscribed. */
async function makeUsers(count: number, perUser = 4): Promise<string[]> {
  const users = Array.from({ length: count }, (_, i) => userName(i));
  for (const [i, user] of users.entries()) {
    const inbox = Array.from({ length: perUser }, (_, k) => message(`16000${String(i).padStart(5, '0')}${k}.M${k}P${i}.host`, `${user} ${k}`, {
      flags: ['S', 'FS', '', 'RS'][k % 4], location: k % 4 === 2 ? 'new' : 'cur', mtime: new Date(Date.UTC(2021, 0, 1 + k, i % 24)),
    }));
    await makeMaildir(oldMaildir(user), [
      { dir: '', messages: inbox },
      { dir: '.Sent', messages: [message(`17000${String(i).padStart(5, '0')}.M1P${i}.host`, `sent by ${user}`, { flags: 'S' })] },
    ], ['Sent']);
  }
  return users;
}

const FROM = (): string => join(work, 'old', '%d', '%n', 'Maildir');
const TO = (): string => join(work, 'new', '%d', '%n');

function batch(args: string[]): Promise<CliResult> {
  return runCli(['batch', ...args, '--from', FROM(), '--to', TO(), '--mkpath'], home);
}

/** Every message file of a user's old Maildir is on the new one under the same name (flags), bytes and mtime; nothing more. */
async function expectExact(user: string, subscribed = true): Promise<void> {
  const old = await messageContents(oldMaildir(user));
  expect(old.length).toBeGreaterThan(0);
  expect(await messageContents(newMaildir(user)), user).toEqual(old);
  if (subscribed) expect(await readFile(join(newMaildir(user), 'subscriptions'), 'utf8'), user).toContain('Sent');
}

async function joblogLines(path: string): Promise<string[][]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t'));
}

async function writeList(name: string, lines: string[]): Promise<string> {
  const path = join(work, name);
  await import('node:fs/promises').then((fs) => fs.writeFile(path, lines.join('\n') + '\n'));
  return path;
}

/** Every path under a directory, relative to it. */
async function allPaths(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      out.push(relative(dir, join(d, e.name)));
      if (e.isDirectory()) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return out.sort();
}

describe('mdsync batch', () => {
  it('backs up 200 users in the %d/%n layout, each exact, a joblog line each; a second run copies nothing; verify signs it off', async () => {
    const users = await makeUsers(200);
    const list = await writeList('users', ['# migrated users', '', ...users]);
    const joblog = join(work, 'joblog');
    const r = await batch(['backup', '--users', list, '--jobs', '8', '--joblog', joblog]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^batch backup: 200 of 200 users done, 0 failed, 0 refused by a guard; 1 000 messages \(.*\) copied in /m);
    for (const user of users) await expectExact(user);
    const lines = await joblogLines(joblog);
    expect(lines.map((l) => l[0]).sort()).toEqual([...users].sort());
    for (const l of lines) {
      expect(l[3]).toBe('0');
      expect(l[4]).toBe('5');
      expect(Number(l[5])).toBeGreaterThan(0);
      expect(new Date(l[1] as string).getTime()).toBeGreaterThan(Date.now() - 600_000);
    }

    const again = await batch(['backup', '--users', list, '--jobs', '8', '--json']);
    expect(again.code).toBe(0);
    const json = JSON.parse(again.stdout) as { exit: number; users: Record<string, number>; messages: number; rows: { user: string; copied: number; exit: number }[] };
    expect(json.users).toMatchObject({ total: 200, done: 200, failed: 0 });
    expect(json.messages).toBe(0);
    expect(json.rows.map((row) => row.user)).toEqual(users);

    const v = await batch(['verify', '--users', list, '--jobs', '8']);
    expect(v.stdout.trim()).toBe('200 of 200 mailboxes identical');
    expect(v.code).toBe(0);
  });

  it('fails a user whose source is missing alone, names it, and --retry-failed then runs only it', async () => {
    const users = await makeUsers(12);
    const broken = users[5] as string;
    await rename(oldMaildir(broken), `${oldMaildir(broken)}.away`);
    const list = await writeList('users', users);
    const joblog = join(work, 'joblog');
    const r = await batch(['backup', '--users', list, '--joblog', joblog]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`mdsync: ${broken}: failed (exit 1): Maildir ${oldMaildir(broken)} does not exist`);
    expect(r.stderr).toContain(`the same command with --retry-failed (they are in ${joblog})`);
    expect(r.stdout).toContain('11 of 12 users done, 1 failed');
    for (const user of users) if (user !== broken) await expectExact(user);

    await rename(`${oldMaildir(broken)}.away`, oldMaildir(broken));
    const retry = await batch(['backup', '--users', list, '--joblog', joblog, '--retry-failed', '-v']);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain(`${broken}: backup: copied 0/5`);
    expect(retry.stdout).toContain('1 of 1 users done');
    expect(retry.stdout).toContain('11 users skipped (not failed in');
    await expectExact(broken);
    const lines = await joblogLines(joblog);
    expect(lines).toHaveLength(13);
    expect(lines.filter((l) => l[0] === broken).map((l) => l[3])).toEqual(['1', '0']);

    // A verify that skips users (every one is done in this joblog) never reads as a sign-off.
    const v = await batch(['verify', '--users', list, '--joblog', joblog, '--resume']);
    expect(v.stdout).toContain('0 of 12 mailboxes identical; 12 not compared in this run');
  });

  it('killed with kill -9, then --resume: every user exact, none done before run again', async () => {
    const users = await makeUsers(120);
    const list = await writeList('users', users);
    const joblog = join(work, 'joblog');
    const args = ['batch', 'backup', '--users', list, '--from', FROM(), '--to', TO(), '--mkpath', '--joblog', joblog, '--jobs', '1', '--bwlimit', '40K'];
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CACHE_HOME: join(home, 'cache') }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    for (let i = 0; i < 600 && (await joblogLines(joblog)).length < 5; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    const before = await joblogLines(joblog);
    expect(before.length).toBeGreaterThanOrEqual(5);
    expect(before.length).toBeLessThan(120);

    const r = await batch(['backup', '--users', list, '--joblog', joblog, '--resume', '--jobs', '8']);
    // The user the kill cut short may have left a temp file: its run says it removed it, nothing else.
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/: removed \d+ temporary files? left by an interrupted run$/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${before.length} users skipped (done already in`);
    for (const user of users) await expectExact(user);
    const after = await joblogLines(joblog);
    for (const user of users) expect(after.filter((l) => l[0] === user && l[3] === '0'), user).toHaveLength(1);
  });

  it('runs disjoint shards that together take every user once', async () => {
    const users = await makeUsers(30);
    const list = await writeList('users', users);
    const taken: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await batch(['backup', '--users', list, '--shard', `${i}/3`, '--json']);
      expect(r.code).toBe(0);
      const rows = (JSON.parse(r.stdout) as { rows: { user: string }[] }).rows.map((row) => row.user);
      expect(rows.length).toBeGreaterThan(0);
      taken.push(...rows);
    }
    expect([...taken].sort()).toEqual([...users].sort());
    for (const user of users) await expectExact(user);
  });

  it('refuses a hostile user name alone, names its line, and writes nothing outside the template\'s directory', async () => {
    const users = await makeUsers(3);
    const hostile = ['../../escape@example.org', '..@example.org', 'x@..', 'a/../../b@example.org', 'ctl\u0007@example.org', '..', '.@x'];
    const list = await writeList('users', [users[0] as string, ...hostile, users[1] as string, users[2] as string]);
    const outsideBefore = (await allPaths(work)).filter((p) => !/^(new|home)(\/|$)/.test(p));
    const r = await batch(['backup', '--users', list]);
    expect(r.code).toBe(1);
    for (const [i, name] of hostile.entries()) expect(r.stderr).toContain(`${list}, line ${i + 2}: user ${quoted(name)} refused: `);
    expect(r.stdout).toContain('3 of 10 users done, 7 failed');
    for (const user of users) await expectExact(user);
    const outsideAfter = (await allPaths(work)).filter((p) => !/^(new|home)(\/|$)/.test(p));
    expect(outsideAfter).toEqual([...outsideBefore, 'users'].sort().filter((p, i, a) => a.indexOf(p) === i));
    expect((await readdir(join(work, 'new'))).sort()).toEqual([...DOMAINS].sort());
  });

  it('holds a line\'s own sides to the templates, and never gives two users one Maildir', async () => {
    const users = await makeUsers(3);
    const [a, b, c] = users as [string, string, string];
    const outside = join(work, 'elsewhere');
    const list = await writeList('users', [
      a,
      `${b}\t${oldMaildir(b)}\t${outside}`,
      `${c}\t${oldMaildir(c)}\t${newMaildir(a)}`,
    ]);
    const r = await batch(['backup', '--users', list]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`mdsync: ${b}: failed (exit 1): --to gives user "${b}" "${outside}": outside "${join(work, 'new')}"`);
    expect(r.stderr).toContain(`mdsync: ${c}: failed (exit 1): its destination ${newMaildir(a)} is user ${a}'s (line 1) too`);
    await expectExact(a);
    await expect(readdir(outside)).rejects.toThrow();

    // Split over machines, the user sharing a Maildir is refused on its own machine too, where
    // the user it collides with is not run.
    const shards = [2, 3, 4, 5, 6, 7].find((n) => shardOf(a, n) !== shardOf(c, n)) as number;
    const own = await batch(['backup', '--users', list, '--shard', `${shardOf(c, shards)}/${shards}`, '--json']);
    const rows = (JSON.parse(own.stdout) as { rows: { user: string; exit: number; error: { message: string } | null }[] }).rows;
    expect(rows.map((row) => row.user)).not.toContain(a);
    expect(rows.find((row) => row.user === c)).toMatchObject({ exit: 1, error: { message: `its destination ${newMaildir(a)} is user ${a}'s (line 1) too` } });
    await expectExact(a);
  });

  it('reads the user list from standard input', async () => {
    const users = await makeUsers(4);
    const child = spawn(process.execPath, [BIN, 'batch', 'backup', '--users', '-', '--from', FROM(), '--to', TO(), '--mkpath', '-q'], {
      env: { ...process.env, HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CACHE_HOME: join(home, 'cache') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(users.join('\n'));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    for (const user of users) await expectExact(user);
  });

  it('holds the --bwlimit rate across the batch over every 5-second window', async () => {
    const users = Array.from({ length: 40 }, (_, i) => userName(i));
    for (const [i, user] of users.entries()) await makeMaildir(oldMaildir(user), [bulkFolder('', i * 100, 12)]);
    let total = 0;
    for (const user of users) for (const f of await messageContents(oldMaildir(user))) total += (await stat(join(oldMaildir(user), f.path))).size;
    const limit = 200 * 1024;
    expect(total / limit).toBeGreaterThan(6);
    const list = await writeList('users', users);
    const samples: { t: number; bytes: number }[] = [];
    const t0 = performance.now();
    let running = true;
    const sampling = (async () => {
      while (running) {
        let bytes = 0;
        for (const user of users) {
          for (const sub of ['cur', 'new']) {
            const dir = join(newMaildir(user), sub);
            for (const name of await readdir(dir).catch(() => [] as string[])) bytes += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
          }
        }
        samples.push({ t: performance.now() - t0, bytes });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const r = await batch(['backup', '--users', list, '--bwlimit', '200K', '--jobs', '4']);
    running = false;
    await sampling;
    expect(r.code).toBe(0);
    const seconds = (performance.now() - t0) / 1000;
    expect(seconds).toBeGreaterThan((total / limit) * 0.8);
    let worst = 0;
    for (const a of samples) for (const b of samples) if (b.t - a.t >= 5000 && b.t - a.t < 5300) worst = Math.max(worst, (b.bytes - a.bytes) / ((b.t - a.t) / 1000));
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(limit * 1.2);
    for (const user of users) await expectExact(user, false);
  });

  it('starts no user while the load is above --max-load, and stops on SIGTERM with nothing half done', async () => {
    const users = await makeUsers(3);
    const list = await writeList('users', users);
    // Something to make the load average above 0 whatever else the machine does.
    const burner = spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end) {}'], { stdio: 'ignore' });
    try {
      const child = spawn(process.execPath, [BIN, 'batch', 'backup', '--users', list, '--from', FROM(), '--to', TO(), '--mkpath', '--max-load', '0'], {
        env: { ...process.env, HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CACHE_HOME: join(home, 'cache') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const code = new Promise<number | null>((resolve) => child.on('exit', resolve));
      for (let i = 0; i < 200 && !stderr.includes('waiting'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(stderr).toMatch(/mdsync: waiting: the load average is [\d.]+, above --max-load 0; no new user starts until it falls/);
      child.kill('SIGTERM');
      expect(await code).toBe(130);
      expect(stderr).toContain('mdsync: stopped: 3 users not started');
      expect(await readdir(join(work, 'new')).catch(() => [])).toEqual([]);
    } finally {
      burner.kill('SIGKILL');
    }
  });
});
