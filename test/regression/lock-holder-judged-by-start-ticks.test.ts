// mdsync.lock carries its holder's start ticks (`pid:host:ticks`), compared exactly: a live holder
// whose lock looks older than its process (the clock stepped after boot, whole-second mtimes) keeps
// its lock, and a process that took a dead holder's PID does not. (Both were judged by btime + start
// ticks against the lock's mtime: the first lock was taken over from under a live run.)

import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../src/protocol/frame.js';
import { PROTOCOL_VERSION } from '../../src/protocol/limits.js';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

let work: string;
let a: string;
let b: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [{ dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] }]);
});

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await removeDir(work);
});

const startTicks = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
};

/** `mdsync serve` on `a`, holding its lock, with a client that stays (and never goes silent for long). */
async function servedAndLocked(): Promise<ChildProcessWithoutNullStreams> {
  const c = spawn(process.execPath, [BIN, 'serve', '--root', a], {
    env: { ...process.env, HOME: work, XDG_CACHE_HOME: join(work, 'cache') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(c);
  const decoder = new FrameDecoder();
  const answers: unknown[] = [];
  c.stdout.on('data', (d: Buffer) => answers.push(...decoder.push(d)));
  c.stderr.resume();
  c.stdin.write(encodeFrame([0, 1, 'hello', { protocol: PROTOCOL_VERSION, program: 'test', timeoutMs: 120_000 }]));
  c.stdin.write(encodeFrame([0, 2, 'lock', {}]));
  for (let i = 0; i < 400 && !answers.some((f) => JSON.stringify(f) === '[1,2,null]'); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(answers).toContainEqual([1, 2, null]);
  return c;
}

describe('a lock judged by its holder\'s start ticks', () => {
  it('a live holder whose lock looks older than the process: the lock is respected', async () => {
    const serve = await servedAndLocked();
    const lock = join(a, 'mdsync.lock');
    expect(await readFile(lock, 'utf8')).toBe(`${serve.pid}:${hostname()}:${startTicks(serve.pid as number)}\n`);
    // As after the clock was stepped forward since boot: the process seems to have started after its lock.
    const before = new Date(Date.now() - 60_000);
    await utimes(lock, before, before);
    const r = await runCli(['sync', a, b], work);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Maildir ${a} is locked by another process (${serve.pid}:${hostname()}, lock file ${lock})`);
  });

  it('a live process under the PID with other start ticks: the lock is taken over', async () => {
    const other = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push(other);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const pid = other.pid as number;
    await writeFile(join(a, 'mdsync.lock'), `${pid}:${hostname()}:${Number(startTicks(pid)) - 1}\n`);
    const r = await runCli(['sync', a, b], work);
    expect(r.code, r.stderr).toBe(0);
    expect((await runCli(['verify', a, b], work)).code).toBe(0);
  });
});
