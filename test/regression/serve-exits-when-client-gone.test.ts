// `mdsync serve` whose client is gone (its stdin ends) or silent past --timeout releases the Maildir lock and exits.
// (An orphaned serve, stuck on a FIFO or waiting on a dead SSH session, kept the lock for good.)

import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../src/protocol/frame.js';
import { PROTOCOL_VERSION } from '../../src/protocol/limits.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

const TIMEOUT_MS = 1500;
/** Longer than any exit after the client is gone should take. */
const GIVE_UP_MS = 15_000;

let work: string;
let root: string;
let child: ChildProcessWithoutNullStreams | undefined;

beforeEach(async () => {
  work = await tempDir();
  root = join(work, 'root');
  await makeMaildir(root, [{ dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] }]);
});

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await removeDir(work);
});

interface Session {
  /** Resolves with each frame as it arrives. */
  next(): Promise<unknown>;
  exited: Promise<number>;
}

/** Starts `mdsync serve`, says hello (as this build's client does) and takes the lock. */
async function lockedSession(): Promise<Session> {
  const c = spawn(process.execPath, [BIN, 'serve', '--root', root], {
    env: { ...process.env, HOME: work, XDG_CACHE_HOME: join(work, 'cache') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child = c;
  const decoder = new FrameDecoder();
  const frames: unknown[] = [];
  const waiting: ((f: unknown) => void)[] = [];
  c.stdout.on('data', (d: Buffer) => {
    for (const f of decoder.push(d)) {
      const w = waiting.shift();
      if (w) w(f);
      else frames.push(f);
    }
  });
  c.stderr.resume();
  c.stdin.on('error', () => undefined);
  const exited = new Promise<number>((resolve) => c.on('exit', (code) => resolve(code ?? -1)));
  const next = (): Promise<unknown> => (frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((resolve) => waiting.push(resolve)));
  c.stdin.write(encodeFrame([0, 1, 'hello', { protocol: PROTOCOL_VERSION, program: 'test', timeoutMs: TIMEOUT_MS }]));
  expect((await next() as unknown[])[0]).toBe(1);
  c.stdin.write(encodeFrame([0, 2, 'lock', {}]));
  expect(await next()).toEqual([1, 2, null]);
  await access(join(root, 'mdsync.lock'));
  return { next, exited };
}

async function exitsWithin(exited: Promise<number>, ms: number): Promise<number | 'still running'> {
  return Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms))]);
}

const lockGone = (): Promise<boolean> => access(join(root, 'mdsync.lock')).then(() => false, () => true);

describe('mdsync serve after its client is gone', () => {
  it('a client silent past its --timeout: serve releases the lock and exits', async () => {
    const s = await lockedSession();
    // Its stdin stays open: a peer behind a dead network link sends nothing, not even an end.
    const started = Date.now();
    expect(await exitsWithin(s.exited, GIVE_UP_MS)).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(await lockGone()).toBe(true);
  }, 30_000);

  it('a client whose stdin ends without bye: serve releases the lock and exits', async () => {
    const s = await lockedSession();
    child?.stdin.end();
    expect(await exitsWithin(s.exited, GIVE_UP_MS)).toBe(1);
    expect(await lockGone()).toBe(true);
  }, 30_000);

  it('a client gone while serve reads a folder with a FIFO as dovecot-keywords: the lock released, serve exits', async () => {
    execFileSync('mkfifo', [join(root, 'dovecot-keywords')]);
    const s = await lockedSession();
    child?.stdin.write(encodeFrame([0, 3, 'listFolders', {}]));
    await new Promise((resolve) => setTimeout(resolve, 500));
    child?.stdin.end();
    expect(await exitsWithin(s.exited, GIVE_UP_MS)).toBe(1);
    expect(await lockGone()).toBe(true);
  }, 30_000);
});
