// A serve whose client is gone while its work hangs (a stuck pool thread) exits at once and leaves
// its lock, which the next run takes over and recovers from. (It unlinked the lock while work still
// wrote, and the next run, finding no lock, never removed the staged folder left in tmp/.)

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, message, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN, serveTransport } from '../helpers/transports.js';

let work: string;
let a: string;
let b: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [{ dir: '', messages: [message('1600000001.M1P1.host', 'one')] }, bulkFolder('.New', 0, 2500)]);
  await makeMaildir(b, [{ dir: '', messages: [] }]);
});

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await removeDir(work);
});

const env = (): NodeJS.ProcessEnv => ({ ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] as string);
  } catch {
    return false;
  }
}

/** Files in the staged folders of b's tmp/, or -1 while there is none. */
async function stagedFiles(): Promise<number> {
  const staged = (await readdir(join(b, 'tmp')).catch(() => [] as string[])).filter((n) => n.includes('mdsync-'));
  if (staged.length === 0) return -1;
  return Number(execFileSync('sh', ['-c', `find ${join(b, 'tmp')} -type f 2>/dev/null | wc -l`], { encoding: 'utf8' }));
}

it('a serve left with hung work by a client that is gone: the next run takes the lock over, no staged folder stays', async () => {
  const remotePath = `MDSYNC_HANG_AFTER=1 ${process.execPath} ${BIN}`;
  const client = spawn(process.execPath, [BIN, 'sync', ...serveTransport.args, '--remote-path', remotePath, a, `localhost:${b}`], { env: env(), stdio: 'ignore' });
  children.push(client);
  // The copy into the new folder stops once a pool thread takes a batch: its files stop growing.
  let last = -2;
  for (let still = 0; still < 6; ) {
    await sleep(250);
    const now = await stagedFiles();
    still = now > 0 && now === last ? still + 1 : 0;
    last = now;
  }
  const serve = Number((await readFile(join(b, 'mdsync.lock'), 'utf8')).split(':')[0]);
  expect(alive(serve)).toBe(true);
  client.kill('SIGKILL');
  for (let i = 0; i < 300 && alive(serve); i++) await sleep(100);
  expect(alive(serve)).toBe(false);

  const again = await runCli(['sync', a, b], work);
  expect(again.code, again.stderr).toBe(0);
  expect(execFileSync('find', [a, b, '-name', '*mdsync-*'], { encoding: 'utf8' })).toBe('');
  expect(await messageFiles(b)).toHaveLength(2501);
  const verify = await runCli(['verify', a, b], work);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
}, 120_000);
