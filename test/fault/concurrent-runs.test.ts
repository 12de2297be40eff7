// Two runs at once on the same pair, or on the same Maildir with another partner: the second is
// refused by the lock with a clear message and changes nothing; a lock left by a killed run is
// taken over, and that run's work is completed.

import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, listNames, makeMaildir, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

let work: string;
let a: string;
let b: string;
let c: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  c = join(work, 'c');
  // Large enough that a first backup lasts well over a second on these machines.
  await makeMaildir(a, Array.from({ length: 12 }, (_, i) => bulkFolder(i === 0 ? '' : `.F${i}`, i * 1000, 250)));
});

afterEach(() => removeDir(work));

/** Starts a run in the background; resolves its exit once it ends. */
function start(args: string[]): { pid: number; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return { pid: child.pid as number, done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr }))) };
}

async function lockAppears(root: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await access(join(root, 'mdsync.lock')).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no lock appeared in ${root}`);
}

describe('two runs at once', () => {
  it('on the same pair: the second is refused, naming the lock and its owner; the first completes', async () => {
    const first = start(['backup', a, b]);
    await lockAppears(a);
    const second = await runCli(['backup', a, b], work);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`Maildir ${a} is locked by another process \\(${first.pid}:${hostname()}, lock file ${join(a, 'mdsync.lock')}\\); try again when it has finished`));
    expect((await first.done).code).toBe(0);
    expect(await messageFiles(b)).toHaveLength(3000);
    expect((await runCli(['verify', a, b], work)).code).toBe(0);
  });

  it('on the same Maildir with another partner: refused while the first runs, fine after', async () => {
    const first = start(['backup', a, b]);
    await lockAppears(a);
    const second = await runCli(['backup', a, c], work);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Maildir ${a} is locked by another process (${first.pid}:${hostname()}`);
    expect(await listNames(c)).toEqual([]);
    expect((await first.done).code).toBe(0);
    expect((await runCli(['backup', a, c], work)).code).toBe(0);
    expect((await runCli(['verify', a, c], work)).code).toBe(0);
  });

  it('a lock left by a run killed mid-way is taken over and the work completed', async () => {
    const first = start(['sync', a, b]);
    await lockAppears(b);
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(first.pid, 'SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect(await listNames(a)).toContain('mdsync.lock');
    const again = await runCli(['sync', a, b], work);
    expect(again.code, again.stderr).toBe(0);
    expect(await listNames(a)).not.toContain('mdsync.lock');
    expect(await listNames(b)).not.toContain('mdsync.lock');
    expect(await messageFiles(b)).toHaveLength(3000);
    expect((await runCli(['verify', a, b], work)).code).toBe(0);
  });
});
