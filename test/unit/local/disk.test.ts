// disk.ts on real files: a new file never replaces one and is never left half written, a
// replaced file is the old one or the new one, a placement never overwrites.

import { closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MdsyncError } from '../../../src/errors.js';
import {
  createFile, createOpenSync, fromErrno, fsyncNow, laterMtime, linkNew, linkNewSync, moveDir, removeFile, renameFile, replaceFile, tempBeside, utimeOf,
} from '../../../src/local/disk.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mdsync-disk-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('createFile', () => {
  it('writes the bytes and the mtime to the millisecond', async () => {
    const path = join(dir, 'm');
    await createFile(path, (h) => h.writeFile('hello'), 1_700_000_000_123);
    expect(readFileSync(path, 'utf8')).toBe('hello');
    expect(Math.floor(statSync(path).mtimeMs)).toBe(1_700_000_000_123);
  });

  it('never replaces a file: the one there keeps its bytes', async () => {
    const path = join(dir, 'm');
    writeFileSync(path, 'theirs');
    await expect(createFile(path, (h) => h.writeFile('ours'))).rejects.toThrow(/while creating .*\/m/);
    expect(readFileSync(path, 'utf8')).toBe('theirs');
  });

  it('leaves nothing behind when the write fails', async () => {
    const path = join(dir, 'm');
    await expect(createFile(path, async (h) => {
      await h.writeFile('half');
      throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
    })).rejects.toMatchObject({ code: 'ENOSPACE', message: expect.stringContaining(path) });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('replaceFile', () => {
  it('replaces a file whole and leaves no temp file', async () => {
    const path = join(dir, 'control');
    writeFileSync(path, 'old');
    await replaceFile(path, ['new ', Buffer.from('bytes')], { mtimeMs: 1_700_000_000_500 });
    expect(readFileSync(path, 'utf8')).toBe('new bytes');
    expect(Math.floor(statSync(path).mtimeMs)).toBe(1_700_000_000_500);
    expect(readdirSync(dir)).toEqual(['control']);
  });

  it('replaces the temp file a killed run of the same PID left (after a reboot, or as PID 1 in a container)', async () => {
    const path = join(dir, 'control');
    writeFileSync(path, 'old');
    writeFileSync(tempBeside(path), 'half of a killed run');
    await replaceFile(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['control']);
  });

  it('creates the directory when asked (the state directory)', async () => {
    const path = join(dir, 'a', 'b', 'x.state');
    await replaceFile(path, 'state', { makeDir: true, doing: 'saving state' });
    expect(readFileSync(path, 'utf8')).toBe('state');
  });

  it('keeps the old file when the new one cannot be written, and says which file', async () => {
    const path = join(dir, 'control');
    writeFileSync(path, 'old');
    const full = function* (): Generator<string> {
      yield 'new, half';
      throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
    };
    await expect(replaceFile(path, full(), { doing: 'saving state' })).rejects.toMatchObject({ code: 'ENOSPACE', message: `disk full while saving state ${path}: free some space and run again` });
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['control']);
  });

  it('refuses to replace a directory, and leaves no temp file', async () => {
    const path = join(dir, 'control');
    mkdirSync(join(path, 'inside'), { recursive: true });
    await expect(replaceFile(path, 'new')).rejects.toBeInstanceOf(MdsyncError);
    expect(readdirSync(dir)).toEqual(['control']);
  });
});

describe('placing, renaming, removing', () => {
  it('linkNew never overwrites: false where the name is taken', async () => {
    writeFileSync(join(dir, 'tmp'), 'ours');
    writeFileSync(join(dir, 'taken'), 'theirs');
    expect(await linkNew(join(dir, 'tmp'), join(dir, 'taken'), 'delivering to')).toBe(false);
    expect(readFileSync(join(dir, 'taken'), 'utf8')).toBe('theirs');
    expect(await linkNew(join(dir, 'tmp'), join(dir, 'free'), 'delivering to')).toBe(true);
    expect(readFileSync(join(dir, 'free'), 'utf8')).toBe('ours');
    expect(linkNewSync(join(dir, 'tmp'), join(dir, 'taken'))).toBe(false);
    expect(() => linkNewSync(join(dir, 'gone'), join(dir, 'other'))).toThrow(/ENOENT/);
  });

  it('renameFile and removeFile tell a file gone meanwhile from a failure', async () => {
    writeFileSync(join(dir, 'a'), 'x');
    expect(await renameFile(join(dir, 'a'), join(dir, 'b'), 'renaming')).toBe(true);
    expect(await renameFile(join(dir, 'a'), join(dir, 'c'), 'renaming')).toBe(false);
    expect(await removeFile(join(dir, 'b'), 'expunging')).toBe(true);
    expect(await removeFile(join(dir, 'b'), 'expunging')).toBe(false);
    await expect(renameFile(join(dir, 'nodir', 'a'), join(dir, 'c'), 'renaming')).resolves.toBe(false);
    writeFileSync(join(dir, 'f'), 'x');
    await expect(renameFile(join(dir, 'f'), join(dir, 'f', 'under'), 'renaming')).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/ENOTDIR while renaming .*\/f/) });
  });

  it('moveDir replaces only an empty directory', async () => {
    mkdirSync(join(dir, 'staged'));
    writeFileSync(join(dir, 'staged', 'm'), 'ours');
    mkdirSync(join(dir, 'there'));
    writeFileSync(join(dir, 'there', 'x'), 'theirs');
    expect(await moveDir(join(dir, 'staged'), join(dir, 'there'), 'publishing folder')).toBe(false);
    expect(readdirSync(join(dir, 'there'))).toEqual(['x']);
    mkdirSync(join(dir, 'empty'));
    expect(await moveDir(join(dir, 'staged'), join(dir, 'empty'), 'publishing folder')).toBe(true);
    expect(readdirSync(join(dir, 'empty'))).toEqual(['m']);
  });
});

describe('the I/O threads\' create', () => {
  it('creates, writes bytes and mtime, and leaves the descriptor open for the fsync', () => {
    const path = join(dir, 'm');
    const fd = createOpenSync(path, Buffer.from('body'), 1_600_000_000_007, undefined, 'throw') as number;
    fsyncNow(fd);
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe('body');
    expect(Math.floor(statSync(path).mtimeMs)).toBe(1_600_000_000_007);
  });

  it('a taken name: undefined when asked, else EEXIST; the file there untouched', () => {
    const path = join(dir, 'm');
    writeFileSync(path, 'theirs');
    expect(createOpenSync(path, Buffer.from('ours'), 0, undefined, 'undefined')).toBeUndefined();
    expect(() => createOpenSync(path, Buffer.from('ours'), 0, undefined, 'throw')).toThrow(/EEXIST/);
    expect(readFileSync(path, 'utf8')).toBe('theirs');
  });
});

describe('times and errors', () => {
  it('utimeOf reads back as the same millisecond', () => {
    for (const ms of [0, 1, 999, 1_700_000_000_999, 4_102_444_800_001]) expect(Math.floor(utimeOf(ms) * 1000)).toBe(ms);
  });

  it('laterMtime is past the old file\'s second', () => {
    expect(laterMtime(undefined, 5_500)).toBe(5_500);
    expect(laterMtime(5_200, 5_900)).toBe(6_000);
    expect(laterMtime(4_999, 5_900)).toBe(5_900);
  });

  it('fromErrno names what was done to which file, with a stable code', () => {
    const e = (code: string) => Object.assign(new Error(code), { code });
    expect(fromErrno(e('EDQUOT'), 'writing', '/m')).toMatchObject({ code: 'ENOSPACE', message: 'disk full while writing /m: free some space and run again' });
    expect(fromErrno(e('EROFS'), 'writing', '/m').code).toBe('READ_ONLY');
    expect(fromErrno(e('EACCES'), 'writing', '/m').code).toBe('PERMISSION');
    expect(fromErrno(e('ENOENT'), 'writing', '/m').code).toBe('NOT_FOUND');
    expect(fromErrno(e('EIO'), 'writing', '/m').message).toBe('EIO while writing /m: EIO');
    const already = new MdsyncError('BAD_NAME', 'x');
    expect(fromErrno(already, 'writing', '/m')).toBe(already);
  });
});
