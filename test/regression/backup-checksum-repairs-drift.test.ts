// Drift `verify` reports on a replica (an mtime changed, bytes changed at the same size, a same-name
// collision after the state was lost) is repaired by one `backup --checksum`: `verify --uids` then passes.

import { appendFile, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
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
const Y = 'cur/2.M2.host:2,S';
const ARRIVED = new Date('2024-03-01T10:00:00Z');

/** A source as Dovecot leaves it: a dovecot-uidlist giving each message its UID. */
async function source(root: string): Promise<void> {
  for (const dir of ['cur', 'new', 'tmp']) await mkdir(join(root, dir), { recursive: true });
  await writeFile(join(root, X), 'Subject: x\n\nbody\n');
  await writeFile(join(root, Y), 'Subject: y\n\nbody y\n');
  for (const f of [X, Y]) await utimes(join(root, f), ARRIVED, ARRIVED);
  await writeFile(join(root, 'dovecot-uidlist'), '3 V1700000000 N3 G0123456789abcdef0123456789abcdef\n1 :1.M1.host\n2 :2.M2.host\n');
}

describe.each([localTransport, serveTransport])('backup --checksum ($name)', (transport) => {
  const setup = async () => {
    const s = join(work, 's');
    const d = join(work, 'd');
    const run = cliVia(transport, work);
    await source(s);
    expect((await run(['backup', s, transport.endpoint(d)])).code).toBe(0);
    return { s, d: transport.endpoint(d), dir: d, run };
  };
  const clean = async (run: (args: string[]) => Promise<{ code: number; stdout: string }>, s: string, d: string) => {
    const v = await run(['verify', '--uids', s, d]);
    expect(v.code, v.stdout).toBe(0);
  };

  it('sets back an mtime changed on the replica', async () => {
    const { s, d, dir, run } = await setup();
    await utimes(join(dir, X), new Date('2025-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z'));
    expect((await run(['verify', s, d])).code).toBe(1);
    const r = await run(['backup', '--checksum', s, d]);
    expect(r.code, r.stderr).toBe(0);
    await clean(run, s, d);
    expect(Math.floor((await stat(join(dir, X))).mtimeMs)).toBe(ARRIVED.getTime());
  });

  it('replaces bytes changed at the same size and the same mtime', async () => {
    const { s, d, dir, run } = await setup();
    const path = join(dir, X);
    const before = await stat(path);
    await writeFile(path, 'Subject: x\n\nBODY\n');
    await utimes(path, before.atime, before.mtime);
    expect((await run(['verify', s, d])).code).toBe(1);
    // An ordinary run trusts names: it finds nothing to do.
    expect((await run(['backup', s, d])).stdout).toMatch(/copied 0\/0, moved 0\/0, flagged 0\/0, expunged 0\/0/);
    const r = await run(['backup', '--checksum', s, d]);
    expect(r.code, r.stderr).toBe(0);
    await clean(run, s, d);
    expect((await run(['backup', '--checksum', s, d])).stdout).toMatch(/copied 0\/0, moved 0\/0, flagged 0\/0, expunged 0\/0/);
  });

  it.each([{ how: 'backup', extra: [] as string[] }, { how: 'backup --checksum', extra: ['--checksum'] }])('a same-name collision after the state was lost: clean after one $how', async ({ extra }) => {
    const { s, d, dir, run } = await setup();
    await appendFile(join(dir, X), 'extra\n');
    await rm(join(work, 'state'), { recursive: true, force: true });
    await rm(join(work, 'cache'), { recursive: true, force: true });
    const r = await run(['backup', ...extra, s, d]);
    expect(r.code, r.stderr).toBe(0);
    await clean(run, s, d);
    expect(await readFile(join(s, X), 'utf8')).toBe('Subject: x\n\nbody\n');
  });

  it('sync --checksum: both files get the earlier mtime, and bytes changed on one side keep both versions on both', async () => {
    const s = join(work, 's');
    const dir = join(work, 'd');
    const d = transport.endpoint(dir);
    const run = cliVia(transport, work);
    await source(s);
    expect((await run(['sync', s, d])).code).toBe(0);
    await utimes(join(dir, X), new Date('2025-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z'));
    const before = await stat(join(dir, Y));
    await writeFile(join(dir, Y), 'Subject: y\n\nBODY y\n');
    await utimes(join(dir, Y), before.atime, before.mtime);
    const r = await run(['sync', '--checksum', s, d]);
    expect(r.code, r.stderr).toBe(0);
    const v = await run(['verify', s, d]);
    expect(v.code, v.stdout).toBe(0);
    expect(Math.floor((await stat(join(dir, X))).mtimeMs)).toBe(ARRIVED.getTime());
    const bodies = async (root: string) => (await Promise.all((await readdir(join(root, 'cur'))).map((f) => readFile(join(root, 'cur', f), 'utf8')))).sort();
    expect(await bodies(s)).toEqual(['Subject: x\n\nbody\n', 'Subject: y\n\nBODY y\n', 'Subject: y\n\nbody y\n']);
    expect(await bodies(dir)).toEqual(await bodies(s));
  });
});
