// A lock whose named process is not its owner any more is taken over by the next run: the owner
// killed and not yet reaped (a zombie), or its PID reused by a process started after the lock was
// written (after a reboot, or later in the same boot). (The next run said "locked by another process".)

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, listNames, makeMaildir, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

let work: string;
let a: string;
let b: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, Array.from({ length: 8 }, (_, i) => bulkFolder(i === 0 ? '' : `.F${i}`, i * 1000, 250)));
});

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await removeDir(work);
});

const env = (): NodeJS.ProcessEnv => ({ ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') });

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

async function lockOwner(root: string): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const text = await readFile(join(root, 'mdsync.lock'), 'utf8').catch(() => '');
    if (text.includes(':')) return Number(text.split(':')[0]);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no lock appeared in ${root}`);
}

async function expectCompletes(): Promise<void> {
  const again = await runCli(['sync', a, b], work);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).not.toContain('locked by another process');
  expect(await listNames(a)).not.toContain('mdsync.lock');
  expect(await messageFiles(b)).toHaveLength(2000);
  expect((await runCli(['verify', a, b], work)).code).toBe(0);
}

describe('a lock left by a run that is gone', () => {
  it('a run killed with SIGKILL that its parent has not reaped (a zombie): the next run proceeds', async () => {
    // The shell's `exec sleep` becomes the run's parent and never waits for it, as a stuck wrapper
    // or a container's init that reaps nothing: the killed run stays a zombie while the next one starts.
    const wrapper = spawn('sh', ['-c', `${process.execPath} ${BIN} sync ${a} ${b} & exec sleep 120`], { env: env(), stdio: 'ignore' });
    children.push(wrapper);
    const pid = await lockOwner(a);
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && procState(pid) !== 'Z'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(procState(pid)).toBe('Z');
    await expectCompletes();
    // Its temp files went with the lock: named after a process that is only a zombie.
    expect(execFileSync('find', [a, b, '-name', `*mdsync-${pid}@*`], { encoding: 'utf8' })).toBe('');
  });

  it('a run killed by timeout -s KILL: the run right after proceeds', async () => {
    const killed = spawn('timeout', ['-s', 'KILL', '120', process.execPath, BIN, 'sync', a, b], { env: env(), stdio: 'ignore' });
    children.push(killed);
    await lockOwner(a);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // SIGALRM is timeout's own timer going off: the run is killed mid-way, whatever the machine's load.
    killed.kill('SIGALRM');
    // timeout kills its whole process group, itself included, so it ends by the signal too.
    const end = await new Promise((resolve) => killed.on('close', (code, signal) => resolve(signal ?? code)));
    expect([137, 'SIGKILL']).toContain(end);
    expect(await listNames(a)).toContain('mdsync.lock');
    await expectCompletes();
  });

  it('a lock naming a live process that started after the lock was written: the next run proceeds', async () => {
    const reused = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push(reused);
    await access(`/proc/${reused.pid}`);
    const lock = join(a, 'mdsync.lock');
    await writeFile(lock, `${reused.pid}:${hostname()}\n`);
    // Written a minute before that process started: well inside the 5 minutes a live owner keeps it.
    const written = new Date(Date.now() - 60_000);
    await utimes(lock, written, written);
    await expectCompletes();
  });

  it('a lock of a live run is still respected', async () => {
    const holder = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push(holder);
    const lock = join(a, 'mdsync.lock');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeFile(lock, `${holder.pid}:${hostname()}\n`);
    const r = await runCli(['sync', a, b], work);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Maildir ${a} is locked by another process (${holder.pid}:${hostname()}, lock file ${lock})`);
  });
});
