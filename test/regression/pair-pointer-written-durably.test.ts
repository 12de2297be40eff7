// The pointer naming a pair's state (<key>.pair) is written as the state is: a temp file synced,
// renamed over, the directory synced. (It was written and renamed unsynced: a power cut could
// leave it empty, and the next run met the sides as a first meeting.)

import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

const hasStrace = spawnSync('strace', ['-V']).status === 0;

describe('the pair\'s pointer file', () => {
  it('is synced before it is renamed into place, and its directory after', async () => {
    if (!hasStrace && process.env.CI !== 'true') return;
    const home = join(work, 'home');
    const a = join(work, 'a');
    await makeMaildir(a, [{ dir: '', messages: [message('1700000001.M1P1.host', 'm1')] }]);
    const trace = join(work, 'trace');
    // -y names each descriptor's file; -f follows the threads that do the file work.
    const r = await runCli(['sync', a, join(work, 'b')], home, {}, ['strace', '-f', '-y', '-qq', '-o', trace, '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2']);
    expect(r.code, r.stderr).toBe(0);
    const lines = (await readFile(trace, 'utf8')).split('\n');
    const stateDir = join(home, 'state', 'mdsync');
    const renamed = lines.findIndex((l) => /rename/.test(l) && /\.pair\.[^"]*\.tmp"/.test(l) && /\.pair"/.test(l));
    expect(renamed, 'the pointer is renamed into place').toBeGreaterThanOrEqual(0);
    const synced = lines.findIndex((l) => /f(data)?sync\(\d+<[^>]*\.pair\.[^>]*\.tmp>/.test(l));
    expect(synced, 'its temp file synced').toBeGreaterThanOrEqual(0);
    expect(synced).toBeLessThan(renamed);
    expect(lines.slice(renamed).some((l) => l.includes(`fsync(`) && l.includes(`<${stateDir}>`))).toBe(true);
  });
});
