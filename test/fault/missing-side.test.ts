// A side that is missing, wiped or half there, and a state that is gone or damaged: each is
// refused or merged without loss — never read as "the user deleted everything".

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { contentsByFolder, makeMaildir, message, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;
let a: string;
let b: string;

const base = (n: number): string => `16000000${String(n).padStart(2, '0')}.M${n}P1.host`;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [
    { dir: '', messages: [1, 2, 3, 4].map((n) => message(base(n), `inbox ${n}`, { flags: 'S' })) },
    { dir: '.Work', messages: [5, 6, 7].map((n) => message(base(n), `work ${n}`, { flags: 'S' })) },
  ], ['Work']);
});

afterEach(() => removeDir(work));

const run = (...args: string[]): Promise<CliResult> => runCli(args, work);

/** A state file's text with its records' lines edited and every checksum made to match again. */
function rechecksummed(text: string, edit: (line: string) => string): string {
  const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
  const [first, ...lines] = text.split('\n');
  const outer = JSON.parse(first as string) as { state: { folders: { bytes: number; sha256: string; patches?: unknown[] }[] } };
  const edited = lines.map(edit);
  expect(edited).not.toEqual(lines);
  outer.state.folders.forEach((f, i) => {
    expect(f.patches).toBeUndefined();
    f.bytes = Buffer.byteLength(edited[i] as string);
    f.sha256 = sha(edited[i] as string);
  });
  const header = JSON.stringify(outer.state);
  return [`{"sha256":"${sha(header)}","state":${header}}`, ...edited].join('\n');
}

async function stateFile(): Promise<string> {
  const dir = join(work, 'state', 'mdsync');
  const [name] = (await readdir(dir)).filter((f) => f.endsWith('.state'));
  return join(dir, name as string);
}

describe.each(['sync', 'backup'] as const)('%s with a side missing or wiped', (mode) => {
  beforeEach(async () => {
    expect((await run(mode, a, b)).code).toBe(0);
  });

  it('a wiped (or unmounted: an empty directory) second side is refused with exit 3, nothing changed', async () => {
    await rm(b, { recursive: true });
    await mkdir(b);
    const before = await contentsByFolder(a);
    const r = await run(mode, a, b);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/is empty but held 7 messages at the last sync: is it unmounted\? Nothing was changed/);
    expect(await contentsByFolder(a)).toEqual(before);
  });

  it('a missing root is an error naming it (exit 1), never an empty Maildir', async () => {
    const before = await contentsByFolder(mode === 'sync' ? b : a);
    await rm(mode === 'sync' ? a : b, { recursive: true });
    const r = await run(mode, a, b);
    if (mode === 'sync') {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Maildir ${a} does not exist`);
      expect(await contentsByFolder(b)).toEqual(before);
    } else {
      // The replica's mount point itself gone: refused as unmounted, not re-created elsewhere.
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/the second side is empty but held 7 messages at the last sync: is it unmounted\?/);
      expect(await contentsByFolder(a)).toEqual(before);
    }
  });

  it('one folder\'s cur/ deleted on a side: nothing expunged elsewhere, the folder made whole again', async () => {
    await rm(join(b, '.Work', 'cur'), { recursive: true });
    const r = await run(mode, a, b);
    expect(r.code).toBe(0);
    if (mode === 'sync') expect(r.stderr).toContain('mdsync: warning: Work: damaged on the second side (cur/ missing): merged as a first meeting, nothing expunged');
    expect(r.stderr).not.toContain('    at ');
    expect(await messageFiles(a)).toHaveLength(7);
    const again = await run(mode, a, b);
    expect(again.code, again.stderr).toBe(0);
    expect(await messageFiles(a)).toHaveLength(7);
    expect(await messageFiles(b)).toHaveLength(7);
    expect((await run('verify', a, b)).code).toBe(0);
  });
});

describe('backup from a damaged source folder', () => {
  it('leaves the replica\'s copy alone and says so', async () => {
    expect((await run('backup', a, b)).code).toBe(0);
    await rm(join(a, '.Work', 'cur'), { recursive: true });
    const r = await run('backup', a, b);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('mdsync: warning: Work: the source folder is damaged (cur/ missing): skipped, its replica left as it is');
    expect(await messageFiles(b)).toHaveLength(7);
  });
});

describe('sync with its state gone or damaged', () => {
  beforeEach(async () => {
    expect((await run('sync', a, b)).code).toBe(0);
    // Since that run, b expunged two messages: with a trusted state they would go from a too.
    for (const f of (await messageFiles(b)).filter((m) => /M[12]P1/.test(m.path))) await rm(join(b, f.path));
  });

  it.each([
    ['deleted', async (path: string): Promise<void> => { await rm(path); }, ''],
    ['truncated', async (path: string): Promise<void> => { await writeFile(path, (await readFile(path, 'utf8')).slice(0, 80)); }, 'is unusable (not JSON): merging as a first meeting (nothing expunged)'],
    ['altered', async (path: string): Promise<void> => { await writeFile(path, (await readFile(path, 'utf8')).replace('"onA":true', '"onA":false')); }, 'is unusable (checksum mismatch): merging as a first meeting (nothing expunged)'],
    ['random bytes', async (path: string): Promise<void> => { await writeFile(path, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))); }, 'is unusable'],
    // Checksums made to match: only the record is wrong, and it is one the run cuts out to plan with.
    ['holding a record that is not JSON', async (path: string): Promise<void> => {
      await writeFile(path, rechecksummed(await readFile(path, 'utf8'), (line) => line.replace(`"${base(1)},S=125","S",[]`, `"${base(1)},S=125","S",[,]`)));
    }, 'is unusable (the records of folder "INBOX" are not JSON): merging as a first meeting (nothing expunged)'],
  ])('state %s: a union, nothing expunged on either side', async (_name, damage, warning) => {
    await damage(await stateFile());
    const r = await run('sync', a, b);
    expect(r.code).toBe(0);
    if (warning) expect(r.stderr).toContain(warning);
    expect(r.stderr).not.toContain('    at ');
    // The union: what b had expunged comes back, nothing is lost anywhere.
    expect(await messageFiles(a)).toHaveLength(7);
    expect(await messageFiles(b)).toHaveLength(7);
    expect((await run('verify', a, b)).code).toBe(0);
  });

  it('a state path that is a directory is an error naming it (exit 1), nothing changed on either side', async () => {
    const path = await stateFile();
    await rm(path);
    await mkdir(path);
    const before = { a: await contentsByFolder(a), b: await contentsByFolder(b) };
    const r = await run('sync', a, b);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/EISDIR|directory/i);
    expect(r.stderr).not.toContain('    at ');
    expect({ a: await contentsByFolder(a), b: await contentsByFolder(b) }).toEqual(before);
  });
});
