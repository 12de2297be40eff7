// `mdsync` with no command prints its help on stderr and exits 64, a usage error: a script that
// forgot its arguments does not pass for a successful run. Help and the version asked for exit 0.
// (It exited 0.)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { removeDir, tempDir } from '../helpers/maildir.js';
import { VERSION } from '../../src/version.js';

let home: string;

beforeAll(async () => {
  home = await tempDir();
});

afterAll(() => removeDir(home));

describe('the command line without a command', () => {
  it('mdsync alone: help on stderr, exit 64', async () => {
    const r = await runCli([], home);
    expect(r.stderr).toContain('Usage: mdsync [options] [command]');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(64);
  });

  it.each(['--help', 'help', 'help backup', 'backup --help'])('mdsync %s: help on stdout, exit 0', async (line) => {
    const r = await runCli(line.split(' '), home);
    expect(r.stdout).toContain('Usage: mdsync');
    expect(r.code).toBe(0);
  });

  it('mdsync --version: the version, exit 0', async () => {
    const r = await runCli(['--version'], home);
    expect(r.stdout.trim()).toBe(VERSION);
    expect(r.code).toBe(0);
  });
});
