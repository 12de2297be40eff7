// The progress line said "scan 0/2" and then "transfer 3/200": it now says in words what is being
// done, and during transfers the messages, bytes, rate and time left.

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

const SIZE = /\d+(\.\d)? (B|kB|MB|GB)/.source;

describe('progress line', () => {
  it('--progress into a pipe: one line per step, in words', async () => {
    const home = join(work, 'home');
    const src = join(work, 'src');
    await makeMaildir(src, [bulkFolder('', 0, 200)]);
    const r = await runCli(['backup', '--progress', src, join(work, 'dst')], home);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    // Into a pipe, lines follow each other: no carriage return, no terminal escape.
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    expect(lines[0]).toBe('reading the folders of both sides (0 of 2 done)');
    expect(lines).toContain('comparing both sides');
    expect(lines).toContain('copying 0 of 200 messages');
    // Messages in batches: the first batch done gives a rate and the time left.
    expect(lines.some((l) => new RegExp(`^copying \\d+ of 200 messages, ${SIZE}, ${SIZE}/s, about \\d+ (s|min) left$`).test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => new RegExp(`^copying 200 of 200 messages, ${SIZE}, ${SIZE}/s$`).test(l)), lines.join('\n')).toBe(true);
    expect(r.stderr).not.toMatch(/\b(scan|transfer) \d+\/\d+/);
  });

  it('is off into a pipe unless asked for', async () => {
    const home = join(work, 'home');
    const src = join(work, 'src');
    await makeMaildir(src, [bulkFolder('', 0, 3)]);
    const r = await runCli(['backup', src, join(work, 'dst')], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});
