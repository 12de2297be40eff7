// A far side stuck in one operation (a hung disk) goes silent and the client's --timeout ends the
// run. (The serve sent keep-alives on a timer whatever its work did, so the client waited for good.)

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { bulkFolder, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
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

it('a serve whose disk writes hang: the client gives up after its --timeout 3', async () => {
  // Each file-I/O thread of the serve hangs at its first write, as on a hung NFS mount.
  const remotePath = `MDSYNC_HANG_AFTER=1 ${process.execPath} ${BIN}`;
  const env = { ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') };
  const client = spawn(process.execPath, [BIN, 'sync', '--timeout', '3', ...serveTransport.args, '--remote-path', remotePath, a, `localhost:${b}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(client);
  let stderr = '';
  client.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const ended = await Promise.race([
    new Promise<number>((resolve) => client.on('close', (code) => resolve(code ?? -1))),
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 45_000)),
  ]);
  expect(ended, stderr).not.toBe('still running');
  expect(ended).not.toBe(0);
  expect(stderr).toMatch(/no answer for \d+ s \(--timeout\); giving up/);
}, 60_000);
