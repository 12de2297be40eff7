// Odd Maildirs — files without info, unknown flags, "!" separators, empty, huge and mis-sized messages,
// directories and symbolic links in cur/, undecodable names: each synced faithfully or warned and skipped.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, mkdir, open, readdir, readFile, readlink, rename, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf, runCli, type CliResult } from '../helpers/cli.js';
import { makeMaildir, message, removeDir, tempDir, type FolderSpec } from '../helpers/maildir.js';
import { BIN, cliVia, serveTransport } from '../helpers/transports.js';

type Mode = 'backup' | 'sync';

let work: string;
let a: string;
let b: string;

const T = new Date('2021-03-04T05:06:07Z');
const base = (n: number): string => `16000000${String(n).padStart(2, '0')}.M${n}P1.host`;

/** A plain Maildir around each odd thing: INBOX (cur/ and new/) and Work. */
const plainA = (): FolderSpec[] => [
  { dir: '', messages: [message(base(1), 'inbox 1', { flags: 'S' }), message(base(2), 'inbox 2', { location: 'new' })] },
  { dir: '.Work', messages: [message(base(3), 'work 3', { flags: 'FS' })] },
];
/** What b holds of its own before a two-way sync: a's side must receive it. */
const B_ONLY = base(9);

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, plainA(), ['Work']);
});

afterEach(() => removeDir(work));

const run = (mode: Mode | 'verify', ...extra: string[]): Promise<CliResult> => runCli([mode, a, b, ...extra], work);

async function prepare(mode: Mode): Promise<void> {
  if (mode === 'sync') await makeMaildir(b, [{ dir: '', messages: [message(B_ONLY, 'from b', { flags: 'S' })] }]);
}

/** Writes an odd file (any bytes, a Buffer path allowed) with the arrival date the helpers use. */
async function put(path: string | Buffer, body: string | Buffer): Promise<void> {
  await writeFile(path, body);
  await utimes(path, T, T);
}

// ---- Reading a tree as it is on disk: raw names, no link followed -----------------------------

interface Entry {
  /** Path under the root; bytes that are not UTF-8 shown as \xNN. */
  path: string;
  kind: 'file' | 'dir' | 'link' | 'other';
  sha?: string;
  size?: number;
  target?: string;
  mtimeMs?: number;
  ino?: number;
}

function shown(name: Buffer): string {
  if (Buffer.from(name.toString('utf8')).equals(name)) return name.toString('utf8');
  return [...name].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');
}

async function shaOf(path: string | Buffer): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** Every entry under root except tmp/ and the lock; `hash: false` only stats (for huge files). */
async function rawTree(root: string, hash = true): Promise<Entry[]> {
  const out: Entry[] = [];
  const walk = async (dir: Buffer, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { encoding: 'buffer', withFileTypes: true })) {
      const name = e.name as unknown as Buffer;
      const path = Buffer.concat([dir, Buffer.from('/'), name]);
      const relPath = rel ? `${rel}/${shown(name)}` : shown(name);
      const st = await lstat(path);
      if (st.isDirectory()) {
        if (shown(name) === 'tmp') continue;
        out.push({ path: relPath, kind: 'dir' });
        await walk(path, relPath);
      } else if (st.isSymbolicLink()) {
        out.push({ path: relPath, kind: 'link', target: (await readlink(path)).toString() });
      } else if (st.isFile()) {
        if (relPath === 'mdsync.lock') continue;
        out.push({ path: relPath, kind: 'file', size: st.size, mtimeMs: Math.floor(st.mtimeMs), ino: st.ino, ...(hash ? { sha: await shaOf(path) } : {}) });
      } else {
        out.push({ path: relPath, kind: 'other' });
      }
    }
  };
  await walk(Buffer.from(root), '');
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

interface Msg {
  folder: string;
  location: string;
  name: string;
  base: string;
  /** Flag characters, as a sorted set. */
  flags: string;
  hasInfo: boolean;
  separator?: string;
  sha?: string;
  size?: number;
  mtimeMs?: number;
}

/** A file name as Dovecot reads it: base, then `<sep>2,<flags>` with ":", "!" or ";". */
function parse(name: string): Pick<Msg, 'base' | 'flags' | 'hasInfo' | 'separator'> {
  const at = Math.max(...[':', '!', ';'].map((s) => name.lastIndexOf(`${s}2,`)));
  if (at <= 0) return { base: name, flags: '', hasInfo: false };
  return { base: name.slice(0, at), flags: [...new Set(name.slice(at + 3))].sort().join(''), hasInfo: true, separator: name[at] as string };
}

/** Regular files in cur/ and new/ of every folder. */
async function messagesIn(root: string, hash = true): Promise<Msg[]> {
  const out: Msg[] = [];
  for (const e of await rawTree(root, hash)) {
    const m = /^(?:(.*)\/)?(cur|new)\/([^/]+)$/.exec(e.path);
    if (!m || e.kind !== 'file') continue;
    out.push({ folder: m[1] ?? '', location: m[2] as string, name: m[3] as string, ...parse(m[3] as string), sha: e.sha, size: e.size, mtimeMs: e.mtimeMs });
  }
  return out;
}

/** Names a replica may give a source file: the same flags, ":" as separator, ASCII order (Maildir spec). */
function acceptableNames(src: Msg): string[] {
  if (!src.hasInfo) return src.location === 'cur' ? [src.base, `${src.base}:2,`] : [src.base];
  return [`${src.base}:2,${src.flags}`];
}

const keyOf = (m: Msg): string => `${m.folder || 'INBOX'}\t${m.base}`;

/** b holds exactly a's messages (minus the skipped): each once, same bytes, flags, place, mtime. */
async function expectReplica(skipped: string[]): Promise<void> {
  const isSkipped = (m: Msg): boolean => skipped.some((s) => `${m.folder}/${m.location}/${m.name}`.includes(s));
  const src = (await messagesIn(a)).filter((m) => !isSkipped(m));
  const dst = await messagesIn(b);
  expect(dst.filter(isSkipped), 'skipped files reached the replica').toEqual([]);
  const srcKeys = src.map(keyOf).sort();
  const dstKeys = dst.map(keyOf).sort();
  expect(new Set(dstKeys).size, 'a message twice in one folder of the replica').toBe(dstKeys.length);
  expect(new Set(srcKeys).size, 'a message twice in one folder of the source').toBe(srcKeys.length);
  expect(dstKeys).toEqual(srcKeys);
  for (const s of src) {
    const d = dst.find((m) => keyOf(m) === keyOf(s)) as Msg;
    expect({ sha: d.sha, size: d.size, flags: d.flags, location: d.location, mtimeMs: d.mtimeMs }, s.name)
      .toEqual({ sha: s.sha, size: s.size, flags: s.flags, location: s.location, mtimeMs: s.mtimeMs });
    if (s.base !== B_ONLY) expect(acceptableNames(s), `${s.name} arrived as ${d.name}`).toContain(d.name);
  }
}

/** A source entry mdsync must leave alone and not copy (`path` is part of its path), and what its warning names. */
interface Skipped {
  path: string;
  warns: string[];
}

const skippedFile = (name: string, folder = 'Work'): Skipped => ({ path: name, warns: [name, folder] });
const skippedFolder = (dir: string): Skipped => ({ path: `${dir}/`, warns: [dir] });

/** Each skipped thing is named by exactly one warning line of the run (every run: never skipped silently). */
function expectWarned(r: CliResult, skipped: Skipped[]): void {
  for (const s of skipped) {
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('mdsync: warning:') && s.warns.every((w) => l.includes(w)));
    expect(lines, `one warning naming ${s.warns.join(' in ')}; stderr:\n${r.stderr}`).toHaveLength(1);
  }
}

function expectCleanExit(r: CliResult): void {
  expect(r.stderr).not.toContain('    at ');
  expect([0, 2], r.stderr).toContain(r.code);
  // Nothing else touches these Maildirs: "run again" would send the user round in circles.
  expect(r.stderr).not.toContain('a side changed during the run');
}

/**
 * The checks after every first run: a clean exit, the source exactly as it was (plus, in a sync, b's
 * own message), b an exact replica of a without the skipped files, each skipped file warned once.
 */
async function expectFirstRun(mode: Mode, r: CliResult, sourceBefore: Entry[], skipped: Skipped[]): Promise<void> {
  expectCleanExit(r);
  expectWarned(r, skipped);
  const after = await rawTree(a);
  expect(after.filter((e) => !e.path.includes(B_ONLY))).toEqual(sourceBefore);
  expect(after.filter((e) => e.path.includes(B_ONLY))).toHaveLength(mode === 'sync' ? 1 : 0);
  await expectReplica(skipped.map((s) => s.path));
}

/** The same command again: the same exit, the same warnings, nothing planned, not a byte or name changed; verify agrees. */
async function expectStableRerun(first: CliResult, skipped: Skipped[], again: () => Promise<CliResult>, verify: () => Promise<CliResult>): Promise<void> {
  const [treeA, treeB] = [await rawTree(a), await rawTree(b)];
  const second = await again();
  expect(second.code, second.stderr).toBe(first.code);
  expectCleanExit(second);
  expectWarned(second, skipped);
  for (const [kind, counts] of Object.entries(jsonOf(second).summary)) expect(counts, `second run: ${kind}`).toEqual({ a: 0, b: 0 });
  expect(await rawTree(a)).toEqual(treeA);
  expect(await rawTree(b)).toEqual(treeB);
  const v = await verify();
  expect(v.code, v.stdout + v.stderr).toBe(0);
  expect(v.stderr).not.toContain('    at ');
}

/** The same command again, locally. */
const rerunLocally = (mode: Mode, first: CliResult, skipped: Skipped[]): Promise<void> =>
  expectStableRerun(first, skipped, () => run(mode, '--json'), () => run('verify'));

/** One odd case end to end: the run, the checks, the re-run. */
async function roundTrip(mode: Mode, skipped: Skipped[] = []): Promise<CliResult> {
  await prepare(mode);
  const before = await rawTree(a);
  const first = await run(mode, '--json');
  await expectFirstRun(mode, first, before, skipped);
  await rerunLocally(mode, first, skipped);
  return first;
}

const cur = (dir: string, name: string): string => join(a, dir, 'cur', name);
const body = (id: string, extra = ''): string => `From: c@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\n\r\nBody of ${id}\r\n${extra}`;

describe.each(['backup', 'sync'] as const)('%s of an odd Maildir', (mode) => {
  it('a file in cur/ without info is a message: it arrives with no flags, the source name untouched', async () => {
    const text = body('no info');
    await put(cur('.Work', `1600000101.M101P1.host,S=${Buffer.byteLength(text)}`), text);
    await roundTrip(mode);
    const got = (await messagesIn(b)).filter((m) => m.base.startsWith('1600000101.'));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ folder: '.Work', location: 'cur', flags: '' });
  });

  it('unknown flags are kept in the name (in ASCII order, as the Maildir spec stores them)', async () => {
    await put(cur('.Work', '1600000111.M111P1.host:2,SZ'), body('SZ'));
    await put(cur('.Work', '1600000112.M112P1.host:2,3S'), body('3S'));
    await put(cur('.Work', '1600000113.M113P1.host:2,S3'), body('S3'));
    await roundTrip(mode);
    const names = (await readdir(join(b, '.Work', 'cur'))).sort();
    expect(names).toContain('1600000111.M111P1.host:2,SZ');
    expect(names).toContain('1600000112.M112P1.host:2,3S');
    // The same flags; the order the spec asks for (what Dovecot writes too).
    expect(names).toContain('1600000113.M113P1.host:2,3S');
  });

  it('the "!" info separator: the message arrives with its flags, under a ":" name on a ":" replica', async () => {
    const name = '1600000121.M121P1.host,S=42';
    await put(cur('.Work', `${name}!2,S`), body('bang'));
    await roundTrip(mode);
    expect((await readdir(join(b, '.Work', 'cur'))).filter((n) => n.startsWith(name))).toEqual([`${name}:2,S`]);
    if (mode === 'sync') {
      // Flagged on b: a's own file takes the flag and keeps its own separator, still one file.
      await rename(join(b, '.Work', 'cur', `${name}:2,S`), join(b, '.Work', 'cur', `${name}:2,FS`));
      const r = await run('sync');
      expectCleanExit(r);
      expect(r.code).toBe(0);
      expect((await readdir(join(a, '.Work', 'cur'))).filter((n) => n.startsWith(name))).toEqual([`${name}!2,FS`]);
      expect(await shaOf(cur('.Work', `${name}!2,FS`))).toBe(createHash('sha256').update(body('bang')).digest('hex'));
    }
  });

  it('zero-byte message files arrive as zero-byte files', async () => {
    await put(cur('.Work', '1600000131.M131P1.host,S=0:2,S'), '');
    await put(join(a, '.Work', 'new', '1600000132.M132P1.host,S=0'), '');
    await roundTrip(mode);
    const empty = (await messagesIn(b)).filter((m) => m.size === 0).map((m) => `${m.location}/${m.name}`).sort();
    expect(empty).toEqual(['cur/1600000131.M131P1.host,S=0:2,S', 'new/1600000132.M132P1.host,S=0']);
  });

  it('a directory and a symbolic link in cur/ are warned about by name and skipped; the link\'s target never travels', async () => {
    const secret = `secret ${Math.random()} never to be copied\n`;
    await writeFile(join(work, 'outside'), secret);
    const dirName = '1600000141.M141P1.host:2,S';
    const linkName = '1600000142.M142P1.host:2,S';
    await mkdir(cur('.Work', dirName));
    await writeFile(join(cur('.Work', dirName), 'inside'), 'a file inside the directory');
    await symlink(join(work, 'outside'), cur('.Work', linkName));
    await roundTrip(mode, [skippedFile(dirName), skippedFile(linkName)]);
    const replica = await rawTree(b);
    expect(replica.filter((e) => e.path.includes('1600000141.') || e.path.includes('1600000142.'))).toEqual([]);
    expect(replica.filter((e) => e.kind !== 'file' && e.kind !== 'dir')).toEqual([]);
    for (const e of replica.filter((f) => f.kind === 'file')) expect(await readFile(join(b, e.path), 'utf8'), e.path).not.toContain(secret.trim());
    expect(await readFile(join(work, 'outside'), 'utf8')).toBe(secret);
  });

  it('a ",S=" size that lies (longer or shorter, small or streamed): the bytes arrive exactly, never cut', async () => {
    const big = (mark: string, mib: number): string => body(mark, `${mark} ${'z'.repeat(60)}\r\n`.repeat(Math.ceil((mib * 1048576) / 64)));
    await put(cur('.Work', '1600000151.M151P1.host,S=10:2,S'), body('longer than S', 'x'.repeat(500)));
    await put(cur('.Work', '1600000152.M152P1.host,S=5000:2,S'), body('shorter than S'));
    await put(cur('.Work', '1600000153.M153P1.host,S=1024:2,S'), big('streamed longer', 2.5));
    await put(cur('.Work', '1600000154.M154P1.host,S=9999999:2,S'), big('streamed shorter', 1.5));
    await roundTrip(mode);
    const sizes = Object.fromEntries((await messagesIn(b)).filter((m) => m.base.includes('.M15')).map((m) => [m.name, m.size]));
    const want = Object.fromEntries((await messagesIn(a)).filter((m) => m.base.includes('.M15')).map((m) => [m.name, m.size]));
    expect(sizes).toEqual(want);
  });

  it('a file name that is not UTF-8: warned about (its bytes shown) and skipped, left on the source; the rest synced', async () => {
    const raw = Buffer.concat([Buffer.from(join(a, '.Work', 'cur', '1600000161.M161P1.host')), Buffer.from([0xff, 0xfe]), Buffer.from(':2,S')]);
    await put(raw, body('not utf-8'));
    await prepare(mode);
    const before = await rawTree(a);
    const first = await run(mode, '--json');
    const skipped = [{ path: '1600000161.M161P1.host', warns: ['cur/1600000161.M161P1.host\\xff\\xfe:2,S', '.Work', 'not UTF-8'] }];
    await expectFirstRun(mode, first, before, skipped);
    await rerunLocally(mode, first, skipped);
    expect(await shaOf(raw)).toBe(createHash('sha256').update(body('not utf-8')).digest('hex'));
  });

  it('folder directories whose names are not modified UTF-7: warned about by name and skipped, never renamed; the rest synced', async () => {
    const bad = ['.Bad&-name&ZZZ', '.&AGE-x&'];
    await makeMaildir(a, bad.map((dir, i) => ({ dir, messages: [message(base(70 + i), `in ${dir}`, { flags: 'S' })] })));
    await prepare(mode);
    const before = await rawTree(a);
    const first = await run(mode, '--json');
    const badShas = (await messagesIn(a)).filter((m) => bad.includes(m.folder)).map((m) => m.sha);
    const replica = await messagesIn(b);
    const skipped: Skipped[] = [];
    for (const [i, dir] of bad.entries()) {
      expect(replica.some((m) => m.sha === badShas[i]), `${dir}'s message in the replica`).toBe(false);
      skipped.push(skippedFolder(dir));
    }
    await expectFirstRun(mode, first, before, skipped);
    const dirs = (await readdir(b)).filter((n) => n.startsWith('.'));
    for (const s of skipped) expect(dirs).not.toContain(s.warns[0]);
    expect(dirs).toContain('.Work');
    await rerunLocally(mode, first, skipped);
  });
});

// ---- A 1 GiB message ------------------------------------------------------------------------------

const MIB = 1 << 20;
const BIG_MIB = 1024;

/** Writes a 1 GiB message of text lines, chunk by chunk (every MiB numbered, so no two alike); never sparse. */
async function writeBigMessage(path: string): Promise<void> {
  const line = `${'The quick brown fox jumps over the lazy dog. '.repeat(2)}0123456789\r\n`;
  const pattern = Buffer.from(line.repeat(Math.ceil(MIB / line.length)).slice(0, MIB));
  const handle = await open(path, 'wx');
  try {
    await handle.write(Buffer.from('From: big@example.org\r\nSubject: one gibibyte\r\n\r\n'.padEnd(64, ' ')));
    for (let i = 0; i < BIG_MIB; i++) {
      Buffer.from(`X-Chunk ${String(i).padStart(6, '0')}\r\n`).copy(pattern, 0);
      await handle.write(pattern);
    }
  } finally {
    await handle.close();
  }
  await utimes(path, T, T);
}

/** Runs mdsync as a child and reports its peak resident set (kB): GNU time when present, else the kernel's VmHWM. */
async function runMeasured(args: string[]): Promise<CliResult & { peakKb: number }> {
  const env = { ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') };
  const timeOut = join(work, 'peak-rss');
  const hasTime = await access('/usr/bin/time', constants.X_OK).then(() => true, () => false);
  const argv = hasTime ? ['/usr/bin/time', '-f', '%M', '-o', timeOut, process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let polled = 0;
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const poll = hasTime ? undefined : setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8').then((s) => {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0);
      polled = Math.max(polled, kb);
    }, () => undefined);
  }, 20);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  if (poll) clearInterval(poll);
  const peakKb = hasTime ? Number((await readFile(timeOut, 'utf8')).trim().split('\n').pop()) : polled;
  return { code, stdout, stderr, peakKb };
}

describe('a 1 GiB message', () => {
  const name = `1600000200.M200P1.host,S=${64 + BIG_MIB * MIB}:2,S`;

  afterEach(async () => {
    // The big files go first, whatever became of the test.
    await removeDir(join(a, '.Work', 'cur', name));
    await removeDir(join(b, '.Work', 'cur', name));
  });

  it('backup copies it byte for byte with its mtime, the run staying under 200 MB of memory; a re-run copies nothing', async () => {
    await writeBigMessage(cur('.Work', name));
    const sourceBefore = await rawTree(a, false);
    const r = await runMeasured(['backup', a, b, '--json']);
    expectCleanExit(r);
    expect(r.code).toBe(0);
    expect(r.peakKb, 'the peak RSS was measured').toBeGreaterThan(10_000);
    expect(r.peakKb, `peak RSS ${Math.round(r.peakKb / 1024)} MB`).toBeLessThan(200 * 1024);
    expect(await rawTree(a, false)).toEqual(sourceBefore);

    const src = (await messagesIn(a, false)).map(({ folder, location, name: n, size, mtimeMs }) => ({ folder, location, name: n, size, mtimeMs }));
    const dst = (await messagesIn(b, false)).map(({ folder, location, name: n, size, mtimeMs }) => ({ folder, location, name: n, size, mtimeMs }));
    expect(dst).toEqual(src);
    const [srcSha, dstSha] = await Promise.all([shaOf(cur('.Work', name)), shaOf(join(b, '.Work', 'cur', name))]);
    expect(dstSha).toBe(srcSha);

    const [treeA, treeB] = [await rawTree(a, false), await rawTree(b, false)];
    const again = await runCli(['backup', a, b, '--json'], work);
    expect(again.code, again.stderr).toBe(0);
    expectCleanExit(again);
    for (const [kind, counts] of Object.entries(jsonOf(again).summary)) expect(counts, `second run: ${kind}`).toEqual({ a: 0, b: 0 });
    expect(await rawTree(a, false)).toEqual(treeA);
    expect(await rawTree(b, false)).toEqual(treeB);
  }, 180_000);
});

// ---- All of it at once, the odd Maildir behind `mdsync serve` --------------------------------------

describe.each(['backup', 'sync'] as const)('%s from an odd Maildir behind mdsync serve', (mode) => {
  it('syncs what is a message, warns about and skips the rest, and a re-run changes nothing', async () => {
    const cli = cliVia(serveTransport, work);
    const far = serveTransport.endpoint(a);
    await writeFile(join(work, 'outside'), 'secret from outside\n');
    await put(cur('.Work', '1600000301.M301P1.host,S=40'), body('no info'));
    await put(cur('.Work', '1600000302.M302P1.host:2,3SZ'), body('unknown flags'));
    await put(cur('.Work', '1600000303.M303P1.host!2,S'), body('bang'));
    await put(cur('.Work', '1600000304.M304P1.host,S=0:2,S'), '');
    await put(cur('.Work', '1600000305.M305P1.host,S=3:2,S'), body('longer than S'));
    await put(cur('.Work', '1600000306.M306P1.host,S=1024:2,S'), body('streamed', 'w'.repeat(3 * MIB)));
    await mkdir(cur('.Work', '1600000307.M307P1.host:2,S'));
    await symlink(join(work, 'outside'), cur('.Work', '1600000308.M308P1.host:2,S'));
    await makeMaildir(a, [{ dir: '.Bad&-name&ZZZ', messages: [message(base(80), 'bad folder', { flags: 'S' })] }]);
    await prepare(mode);
    const before = await rawTree(a);
    const first = await cli([mode, far, b, '--json']);
    const skipped = [skippedFile('1600000307.M307P1.host:2,S'), skippedFile('1600000308.M308P1.host:2,S'), skippedFolder('.Bad&-name&ZZZ')];
    expectCleanExit(first);
    expectWarned(first, skipped);
    const after = await rawTree(a);
    expect(after.filter((e) => !e.path.includes(B_ONLY))).toEqual(before);
    await expectReplica(skipped.map((s) => s.path));

    await expectStableRerun(first, skipped, () => cli([mode, far, b, '--json']), () => cli(['verify', far, b]));
  });
});
