// Many runs finding the same stale lock at once: exactly one of them holds it. (Two takers could
// both hold it: one removed the lock the other had just made in place of the stale one.)

import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/maildir.js';

const TAKER = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'helpers', 'lock-taker.mjs');
const TAKERS = 20;
const ROUNDS = 5;

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(() => removeDir(work));

/** A PID no process has: one that has just ended (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid as number;
}

interface Taker { said: Promise<string>; ready: Promise<void>; go: () => void }

function startTaker(lock: string): Taker {
  const child = spawn(process.execPath, [TAKER, lock, '3000'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
  });
  const said = new Promise<string>((resolve) => child.on('close', () => resolve(out.replace('ready\n', '').trim())));
  return { said, ready, go: () => child.stdin.end('go\n') };
}

describe('a stale lock taken over by many processes at once', () => {
  it.each(Array.from({ length: ROUNDS }, (_, round) => round))('exactly one holds it (round %i)', async (round) => {
    const lock = join(work, `round${round}`, 'mdsync.lock');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(work, `round${round}`)));
    await writeFile(lock, `${await deadPid()}:${hostname()}\n`);
    const takers = Array.from({ length: TAKERS }, () => startTaker(lock));
    await Promise.all(takers.map((t) => t.ready));
    for (const t of takers) t.go();
    const said = await Promise.all(takers.map((t) => t.said));
    expect(said.filter((s) => s.startsWith('held')), said.join(', ')).toHaveLength(1);
    expect(said.filter((s) => s === 'refused LOCKED')).toHaveLength(TAKERS - 1);
    expect(await readdir(join(work, `round${round}`))).toEqual([]);
  }, 60_000);
});
