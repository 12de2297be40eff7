// `mdsync serve` facing a hostile or broken client: raw bytes on its stdin, nothing outside the root touched.

import { spawn } from 'node:child_process';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../src/protocol/frame.js';
import { PROTOCOL_MINOR, PROTOCOL_VERSION } from '../../src/protocol/limits.js';
import { makeMaildir, message, readTree, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

let work: string;
let root: string;
let outside: string;
let outsideBefore: Awaited<ReturnType<typeof readTree>>;

beforeEach(async () => {
  work = await tempDir();
  root = join(work, 'root');
  outside = join(work, 'outside');
  await makeMaildir(root, [{ dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] }]);
  await makeMaildir(outside, [{ dir: '', messages: [message('1600000009.M9P1.host', 'secret', { flags: 'S' })] }]);
  outsideBefore = await readTree(outside);
});

afterEach(async () => {
  await removeDir(work);
});

interface Served {
  code: number;
  stderr: string;
  frames: unknown[];
}

/** Starts `mdsync serve`, sends the given bytes (then closes its stdin unless told to keep it open). */
function serve(input: Buffer[], options: { keepOpenMs?: number } = {}): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--root', root], {
      env: { ...process.env, HOME: work, XDG_CACHE_HOME: join(work, 'cache') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const decoder = new FrameDecoder();
    const frames: unknown[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => frames.push(...decoder.push(d)));
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr, frames }));
    for (const chunk of input) child.stdin.write(chunk);
    if (options.keepOpenMs === undefined) child.stdin.end();
    else setTimeout(() => child.stdin.end(), options.keepOpenMs);
  });
}

const hello = encodeFrame([0, 1, 'hello', { protocol: PROTOCOL_VERSION, minor: PROTOCOL_MINOR, program: 'test', timeoutMs: 30_000 }]);
const request = (id: number, method: string, args: unknown): Buffer => encodeFrame([0, id, method, args]);
/** A packed delivery of two messages into INBOX, with `bent` fields. */
const packed = (bent: Record<string, unknown>): Record<string, unknown> => ({
  folder: 'INBOX', guids: '1600000002.M2P1.host\n1600000003.M3P1.host', flags: 'S\nS', locations: 'cc', mtimes: [0, 0],
  keywords: [[], []], infoRest: [null, null], data: [Buffer.from('x'), Buffer.from('y')], ...bent,
});
const errors = (s: Served): unknown[] => s.frames.filter((f) => Array.isArray(f) && f[0] === 2);

function expectCleanFailure(s: Served, text: RegExp): void {
  expect(s.code).toBe(1);
  expect(s.stderr).toMatch(text);
  // A message for a person, never a stack trace.
  expect(s.stderr).not.toMatch(/\n\s+at /);
}

async function expectOutsideUntouched(): Promise<void> {
  expect(await readTree(outside)).toEqual(outsideBefore);
  expect(await readdir(work)).toEqual(expect.arrayContaining(['outside', 'root']));
  expect((await readdir(work)).filter((n) => !['outside', 'root', 'cache'].includes(n))).toEqual([]);
}

describe('mdsync serve against a hostile client', () => {
  it('answers an orderly session and exits 0', async () => {
    const s = await serve([hello, request(2, 'listFolders', {}), encodeFrame([3])], { keepOpenMs: 1000 });
    expect(s.code).toBe(0);
    expect(s.stderr).toBe('');
    const answer = s.frames.find((f) => Array.isArray(f) && f[0] === 1 && f[1] === 2) as [number, number, { folders: unknown[] }];
    expect(answer[2].folders).toEqual([['INBOX', expect.any(String), 1, '', null, null, null]]);
  });

  it('announces its protocol version and minor, and answers nothing to changes since a digest it never had', async () => {
    const s = await serve([hello, request(2, 'changes', { folder: 'INBOX', since: '0'.repeat(32) }), encodeFrame([3])], { keepOpenMs: 1000 });
    expect(s.code).toBe(0);
    expect(s.frames).toContainEqual([1, 1, expect.objectContaining({ protocol: PROTOCOL_VERSION, minor: PROTOCOL_MINOR })]);
    expect(s.frames).toContainEqual([1, 2, null]);
  });

  it('ends the session on garbage bytes, without a crash', async () => {
    const s = await serve([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expectCleanFailure(s, /protocol error: frame of \d+ bytes announced \(limit 16777216\)/);
    expect(errors(s)).toEqual([[2, 0, 'PROTOCOL', expect.stringContaining('frame of')]]);
  });

  it('refuses a deflated frame that would inflate past the frame limit', async () => {
    const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024));
    const head = Buffer.alloc(4);
    head.writeUInt32BE((bomb.length | 0x80000000) >>> 0, 0);
    const s = await serve([Buffer.concat([head, bomb])]);
    expectCleanFailure(s, /protocol error: a deflated frame does not inflate within 16777216 bytes/);
  });

  it('refuses a 2 GiB frame length, plain or deflated, before allocating it', async () => {
    const plain = await serve([Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0])]);
    expectCleanFailure(plain, /protocol error: frame of 2147483647 bytes announced/);
    const deflated = await serve([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0])]);
    expectCleanFailure(deflated, /protocol error: deflated frame of 2147483647 bytes announced/);
  });

  it('reports a truncated frame', async () => {
    const whole = request(1, 'hello', { protocol: PROTOCOL_VERSION, program: 'x'.repeat(40), timeoutMs: 1000 });
    const s = await serve([whole.subarray(0, 30)]);
    expectCleanFailure(s, /connection closed by the other side in the middle of a frame \(30 bytes of it received\)/);
  });

  it('refuses an unknown message type', async () => {
    const s = await serve([hello, request(2, 'format', { disk: '/' })], { keepOpenMs: 500 });
    expectCleanFailure(s, /unknown message type "format"/);
  });

  it('refuses any request before hello', async () => {
    const s = await serve([request(1, 'listFolders', {})], { keepOpenMs: 500 });
    expectCleanFailure(s, /a request arrived before hello/);
    expect(errors(s)[0]).toEqual([2, 1, 'PROTOCOL', 'a request arrived before hello']);
  });

  it('refuses a different protocol version with a clear message', async () => {
    const s = await serve([request(1, 'hello', { protocol: 99, program: 'mdsync 9.0.0', timeoutMs: 1000 })], { keepOpenMs: 500 });
    expect(errors(s)[0]).toEqual([2, 1, 'PROTOCOL_VERSION', expect.stringMatching(new RegExp(`remote mdsync \\S+ speaks protocol ${PROTOCOL_VERSION}, this one \\(mdsync 9\\.0\\.0\\) speaks 99`))]);
    expect(s.code).toBe(1);
  });

  it.each([
    ['a ".." folder', 'manifest', { folder: '../outside', start: 0 }, /manifest\.folder: folder name "\.\.\/outside" has an empty, "\." or "\.\." component/],
    ['an absolute folder', 'createFolder', { folder: '/etc' }, /starts or ends with "\/"/],
    ['a NUL in a folder', 'createFolder', { folder: 'a\u0000b' }, /control character/],
    ['a GUID with "/"', 'read', { folder: 'INBOX', guids: ['../../outside/cur/1600000009.M9P1.host:2,S'] }, /read\.guids\[0\]: GUID .* contains "\/"/],
    ['a negative size', 'upload', { folder: 'INBOX', item: { guid: 'x', mtime: 0, flags: '', keywords: [], location: 'new', size: -1 } }, /upload\.item\.size: expected a whole number/],
    ['a digest not in hex', 'changes', { folder: 'INBOX', since: '../../outside/cur/00000000000000' }, /changes\.since: expected a folder digest \(32 hex digits\)/],
    ['a ".." folder asked for its changes', 'changes', { folder: 'INBOX/../../outside', since: '0'.repeat(32) }, /changes\.folder: folder name .* has an empty, "\." or "\.\." component/],
    ['a huge size', 'upload', { folder: 'INBOX', item: { guid: 'x', mtime: 0, flags: '', keywords: [], location: 'new', size: 2 ** 50 } }, /upload\.item\.size: expected a whole number from 0 to 1099511627776/],
    ['a packed GUID with "/"', 'deliver', packed({ guids: '1600000002.M2P1.host\n../../outside/cur/x' }), /deliver\.guids\[1\]: GUID "\.\.\/\.\.\/outside\/cur\/x" contains "\/"/],
    ['packed GUIDs one line short', 'deliver', packed({ guids: '1600000002.M2P1.host' }), /deliver\.guids: expected 2 lines \(one a message\), got 1/],
    ['packed flags one line long', 'deliver', packed({ flags: 'S\nS\nS' }), /deliver\.flags: expected 2 lines \(one a message\), got 3/],
    ['a packed location neither c nor n', 'deliver', packed({ locations: 'ct' }), /deliver\.locations\[1\]: expected c or n, got "t"/],
    ['packed mtimes one short', 'deliver', packed({ mtimes: [0] }), /deliver\.mtimes: expected 2 entries \(one a message\), got 1/],
    ['a packed flag that is a keyword letter', 'deliver', packed({ flags: 'S\nSa' }), /deliver\.flags\[1\]: bad flags "Sa"/],
    ['a ".." folder to publish', 'publishFolder', { folder: '../outside' }, /publishFolder\.folder: folder name "\.\.\/outside" has an empty, "\." or "\.\." component/],
    ['a ".." folder to stage', 'stageFolder', { folder: '../outside' }, /stageFolder\.folder: folder name "\.\.\/outside" has an empty, "\." or "\.\." component/],
    ['a staged folder asked for with a string', 'createFolder', { folder: 'Work', staged: 'yes' }, /createFolder\.staged: expected true or false, got/],
    ['a ".." folder to let go of', 'release', { folders: ['INBOX', '../outside'] }, /release\.folders\[1\]: folder name "\.\.\/outside" has an empty, "\." or "\.\." component/],
    ['a ".." folder to list', 'listFolders', { folders: ['../outside'] }, /listFolders\.folders\[0\]: folder name "\.\.\/outside" has an empty, "\." or "\.\." component/],
    ['a listing that keeps a negative count', 'listFolders', { release: { keep: -1 } }, /listFolders\.release\.keep: expected a whole number/],
  ])('refuses %s and touches nothing outside the root', async (_what, method, args, text) => {
    const s = await serve([hello, request(2, method, args)], { keepOpenMs: 500 });
    expectCleanFailure(s, text);
    await expectOutsideUntouched();
  });

  it('builds no staged folder nor staged INBOX through a tmp/ symlinked out of the root, and publishes one at the end of the session', async () => {
    await removeDir(join(root, 'tmp'));
    await symlink(join(outside, 'tmp'), join(root, 'tmp'));
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, '.Sent', sub), { recursive: true });
    const s = await serve([
      hello,
      request(2, 'lock', {}),
      request(3, 'createFolder', { folder: 'Work', staged: true }),
      request(4, 'stageFolder', { folder: 'INBOX' }),
      request(5, 'createFolder', { folder: 'Sent', staged: true }),
      encodeFrame([3]),
    ], { keepOpenMs: 1500 });
    const byId = new Map(s.frames.filter(Array.isArray).map((f) => [f[1], f]));
    expect(byId.get(3)).toEqual([2, 3, 'BAD_FOLDER', expect.stringContaining(`${join(root, 'tmp')} leads outside the Maildir`)]);
    expect(byId.get(4)).toEqual([2, 4, 'BAD_FOLDER', expect.stringContaining(`${join(root, 'tmp')} leads outside the Maildir`)]);
    expect(byId.get(5)).toEqual([2, 5, 'BAD_FOLDER', expect.stringContaining(`${join(root, 'tmp')} leads outside the Maildir`)]);
    expect(await readdir(root)).not.toContain('.Work');
    await expectOutsideUntouched();

    // A staged folder the client never publishes is published when the session ends.
    await removeDir(join(root, 'tmp'));
    await mkdir(join(root, 'tmp'));
    const again = await serve([hello, request(2, 'lock', {}), request(3, 'createFolder', { folder: 'Later', staged: true }), encodeFrame([3])], { keepOpenMs: 1500 });
    expect(again.frames).toContainEqual([1, 3, null]);
    expect(again.code).toBe(0);
    expect((await readTree(join(root, '.Later'))).map((f) => f.path)).toEqual(['maildirfolder']);
    expect(await readdir(join(root, '.Later'))).toEqual(expect.arrayContaining(['cur', 'new', 'tmp']));
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('does not follow a folder symlinked out of the root', async () => {
    await symlink(outside, join(root, '.Evil'));
    await mkdir(join(root, '.Other', 'cur'), { recursive: true });
    await symlink(join(outside, 'new'), join(root, '.Other', 'new'));
    const s = await serve([
      hello,
      request(2, 'manifest', { folder: 'Evil', start: 0 }),
      request(3, 'manifest', { folder: 'Other', start: 0 }),
      request(4, 'deliver', { folder: 'Other', guids: 'planted', flags: '', locations: 'n', mtimes: [0], keywords: [[]], infoRest: [null], data: [Buffer.from('x')] }),
      request(5, 'createFolder', { folder: 'Evil/Sub' }),
      request(6, 'listFolders', {}),
      encodeFrame([3]),
    ], { keepOpenMs: 1500 });
    const byId = new Map(s.frames.filter(Array.isArray).map((f) => [f[1], f]));
    expect(byId.get(2)).toEqual([2, 2, 'BAD_FOLDER', expect.stringContaining('leads outside the Maildir')]);
    expect(byId.get(3)).toEqual([2, 3, 'BAD_FOLDER', expect.stringContaining('leads outside the Maildir')]);
    expect(byId.get(4)).toEqual([2, 4, 'BAD_FOLDER', expect.stringContaining('leads outside the Maildir')]);
    // Maildir++ maps Evil/Sub to .Evil.Sub beside the link, inside the root.
    expect(byId.get(5)).toEqual([1, 5, null]);
    expect(await readdir(root)).toContain('.Evil.Sub');
    // Listed as unreadable, so a sync leaves both copies alone rather than reading them as deleted.
    const list = byId.get(6) as [number, number, { folders: unknown[][] }];
    const listed = new Map(list[2].folders.map((f) => [f[0], f[6]]));
    expect(listed.get('Evil')).toMatch(/leads outside the Maildir .*: refused/);
    expect(listed.get('Other')).toMatch(/leads outside the Maildir .*: refused/);
    expect(listed.get('INBOX')).toBeNull();
    expect(s.code).toBe(0);
    await expectOutsideUntouched();
  });
});
