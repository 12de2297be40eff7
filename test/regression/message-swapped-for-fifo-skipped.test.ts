// A message file replaced by a FIFO after the listing is reported and taken as vanished, never
// waited on. (Message files were opened without O_NONBLOCK: the read blocked serve for good.)

import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../src/protocol/frame.js';
import { PROTOCOL_VERSION } from '../../src/protocol/limits.js';
import { fileName, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

let work: string;
let root: string;
let child: ChildProcessWithoutNullStreams | undefined;
const one = message('1600000001.M1P1.host', 'one', { flags: 'S' });
const two = message('1600000002.M2P2.host', 'two', { flags: 'S' });

beforeEach(async () => {
  work = await tempDir();
  root = join(work, 'root');
  await makeMaildir(root, [{ dir: '', messages: [one, two] }]);
});

afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await removeDir(work);
});

it('a message file swapped for a FIFO between listing and read: vanished, with a warning naming it', async () => {
  const c = spawn(process.execPath, [BIN, 'serve', '--root', root], { env: { ...process.env, HOME: work, XDG_CACHE_HOME: join(work, 'cache') } });
  child = c;
  const decoder = new FrameDecoder();
  const answers = new Map<number, unknown>();
  c.stdout.on('data', (d: Buffer) => {
    for (const f of decoder.push(d) as unknown[][]) if (f[0] === 1) answers.set(f[1] as number, f[2]);
  });
  c.stderr.resume();
  const ask = async (id: number, method: string, args: unknown, ms = 10_000): Promise<unknown> => {
    c.stdin.write(encodeFrame([0, id, method, args]));
    for (let waited = 0; !answers.has(id) && waited < ms; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(answers.has(id), `an answer to ${method}`).toBe(true);
    return answers.get(id);
  };
  await ask(1, 'hello', { protocol: PROTOCOL_VERSION, program: 'test', timeoutMs: 60_000 });
  await ask(2, 'lock', {});
  await ask(3, 'listFolders', {});
  const file = join(root, 'cur', fileName(two));
  await unlink(file);
  execFileSync('mkfifo', [file]);
  const read = await ask(4, 'read', { folder: 'INBOX', guids: [one.base, two.base] }) as { guid: string; vanished?: boolean; data?: Uint8Array }[];
  expect(Buffer.from(read[0]?.data ?? []).toString()).toContain('Subject: one');
  expect(read[1]).toEqual({ guid: two.base, vanished: true });
  const warnings = await ask(5, 'drainWarnings', {}) as { warnings: { message: string }[] };
  expect(warnings.warnings.map((w) => w.message).join('\n')).toContain(`${file} is not a regular file`);
}, 30_000);
