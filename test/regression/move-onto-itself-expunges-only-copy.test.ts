// After a collision gave a message a fresh name on one side, the names agree again (rsync): no
// run moves the message onto itself and expunges it, and sync never calls different sides converged.

import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport } from '../helpers/transports.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

const X = 'cur/1.M1.host:2,S';

async function source(root: string): Promise<void> {
  for (const dir of ['cur', 'new', 'tmp']) await mkdir(join(root, dir), { recursive: true });
  await writeFile(join(root, X), 'Subject: x\n\nbody\n');
  await writeFile(join(root, 'cur/2.M2.host:2,S'), 'Subject: y\n\nbody y\n');
}

describe.each([localTransport, serveTransport])('a move onto itself ($name)', (transport) => {
  it.each(['backup', 'sync'])('%s: after a collision and rsync, every copy stays and verify passes', async (mode) => {
    const s = join(work, 's');
    const d = join(work, 'd');
    const run = cliVia(transport, work);
    await source(s);
    expect((await run([mode, s, transport.endpoint(d)])).code).toBe(0);
    await appendFile(join(d, X), 'extra\n');
    // State and cache lost: the next run meets the two files named 1.M1.host as a collision.
    await rm(join(work, 'state'), { recursive: true, force: true });
    await rm(join(work, 'cache'), { recursive: true, force: true });
    expect((await run([mode, s, transport.endpoint(d)])).code).toBe(0);
    execFileSync('rsync', ['-a', '--delete', `${s}/`, `${d}/`]);
    const again = await run([mode, '-v', s, transport.endpoint(d)]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/to INBOX on the (first|second) side \(no transfer\)/);
    expect(await readFile(join(s, X), 'utf8')).toBe('Subject: x\n\nbody\n');
    expect(await readFile(join(d, X), 'utf8')).toBe('Subject: x\n\nbody\n');
    const verify = await run(['verify', s, transport.endpoint(d)]);
    expect(verify.code, verify.stdout).toBe(0);
    // And it stays so: the next run finds nothing to do.
    const last = await run([mode, '-v', s, transport.endpoint(d)]);
    expect(last.stdout).toMatch(/copied 0\/0, moved 0\/0, flagged 0\/0, expunged 0\/0/);
    expect((await run(['verify', s, transport.endpoint(d)])).code).toBe(0);
  });
});
