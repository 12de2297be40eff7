// The package as a user installs it: `npm pack` of a checkout with nothing built (as a clone or a
// git URL gives it) builds and ships the code, `npm install -g` of the tarball puts a working
// `mdsync` on a prefix's bin/, and that mdsync backs up, verifies and serves the far side.
// (The tarball held no dist/: its mdsync failed with ERR_MODULE_NOT_FOUND.)

import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { makeMaildir, message, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';

const REPO = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const FAKE_SSH = join(REPO, 'test', 'helpers', 'fake-ssh.mjs');
// A build with tsc and an install on two busy cores.
const SETUP_TIMEOUT_MS = 300_000;

let work: string;
let prefix: string;
let files: string[];
let mdsync: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** npm without the settings of an npm that may have started the tests (`npm test`), its cache and registry kept. */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_') || keep.has(name.toLowerCase())));
}

/** The user's environment for the installed mdsync: its own HOME, state and cache. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache'), ...extra };
}

beforeAll(async () => {
  work = await tempDir();
  // The files a checkout holds (tracked, or new and not ignored): no dist/, as a clone has none.
  const checkout = join(work, 'checkout');
  const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO });
  expect(listed.code, listed.stderr).toBe(0);
  for (const path of listed.stdout.split('\0').filter(Boolean)) {
    await mkdir(dirname(join(checkout, path)), { recursive: true });
    await copyFile(join(REPO, path), join(checkout, path)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // a tracked file deleted in the work tree
    });
  }
  // The build tools: what `npm install` puts there before `prepare` runs.
  await symlink(join(REPO, 'node_modules'), join(checkout, 'node_modules'));

  const packs = join(work, 'packs');
  await mkdir(packs);
  const packed = await run('npm', ['pack', '--pack-destination', packs], { cwd: checkout, env: npmEnv() });
  expect(packed.code, packed.stderr).toBe(0);
  const [tarball] = await readdir(packs);
  expect(tarball).toBe(`mdsync-${VERSION}.tgz`);
  const listing = await run('tar', ['-tzf', join(packs, tarball as string)]);
  expect(listing.code, listing.stderr).toBe(0);
  files = listing.stdout.split('\n').filter(Boolean);

  // The runtime dependencies come from npm's cache (`npm ci` filled it), else the registry. Their
  // install scripts only build ssh2's optional native speed-ups, which mdsync does without.
  prefix = join(work, 'prefix');
  const installed = await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(packs, tarball as string)], { cwd: work, env: npmEnv() });
  expect(installed.code, installed.stderr).toBe(0);
  mdsync = join(prefix, 'bin', 'mdsync');
}, SETUP_TIMEOUT_MS);

afterAll(() => removeDir(work));

describe('the package installed from its tarball', () => {
  it('holds the program, its documentation, and no tests, sources or source maps', () => {
    expect(files).toContain('package/bin/mdsync.js');
    expect(files).toContain('package/bin/package.json');
    expect(files).toContain('package/dist/src/cli/main.js');
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/docs/safety.md');
    expect(files.filter((f) => /^package\/(src|test|bench)\/|^package\/dist\/(test|bench)\/|\.map$|\.ts$/.test(f))).toEqual([]);
  });

  it('mdsync --version runs from the prefix', async () => {
    const r = await run(mdsync, ['--version'], { env: userEnv() });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(VERSION);
    expect(r.code).toBe(0);
  });

  it('backs up a Maildir, and verify finds the replica identical', async () => {
    const src = join(work, 'Maildir');
    const dst = join(work, 'backup');
    await makeMaildir(src, [
      { dir: '', messages: [message('1600000001.M1P1.host', 'first', { flags: 'S' }), message('1600000002.M2P1.host', 'second', { location: 'new' })] },
      { dir: '.Archive', messages: [message('1600000003.M3P1.host', 'archived', { flags: 'FS' })] },
    ], ['Archive']);
    const backup = await run(mdsync, ['backup', src, dst], { env: userEnv() });
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect((await messageFiles(dst)).map((f) => [f.path, f.sha])).toEqual((await messageFiles(src)).map((f) => [f.path, f.sha]));
    const verify = await run(mdsync, ['verify', src, dst], { env: userEnv() });
    expect(verify.stdout).toContain('identical');
    expect(verify.code).toBe(0);
  });

  it('serves the far side: named with --remote-path, or found on the PATH', async () => {
    const src = join(work, 'Maildir-far');
    await makeMaildir(src, [{ dir: '', messages: [message('1600000004.M4P1.host', 'far')] }]);
    const ssh = ['-e', `${process.execPath} ${FAKE_SSH}`];
    const named = await run(mdsync, ['backup', ...ssh, '--remote-path', mdsync, src, `localhost:${join(work, 'far-named')}`], { env: userEnv() });
    expect(named.stderr).toBe('');
    expect(named.code).toBe(0);
    const path = `${join(prefix, 'bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
    const onPath = await run(mdsync, ['backup', ...ssh, src, `localhost:${join(work, 'far-on-path')}`], { env: userEnv({ PATH: path }) });
    expect(onPath.stderr).toBe('');
    expect(onPath.code).toBe(0);
    for (const dst of ['far-named', 'far-on-path']) expect(await messageFiles(join(work, dst))).toHaveLength(1);
  });
});
