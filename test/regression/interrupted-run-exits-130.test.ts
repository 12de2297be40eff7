// Ctrl-C (SIGINT) during a backup ends it with exit 130 and a line saying so, leaves no message file
// half written, and the next run finishes the copy: verify finds the two sides identical.
// (The process died of the signal: no exit status of its own, no word on stderr.)

import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

const FOLDERS = 8;
const PER_FOLDER = 400;

let work: string;
let src: string;
let dst: string;

beforeEach(async () => {
  work = await tempDir();
  src = join(work, 'src');
  dst = join(work, 'dst');
  // Enough folders that the run is stopped with some of them in place and others still to copy.
  await makeMaildir(src, Array.from({ length: FOLDERS }, (_, i) => bulkFolder(`.F${i}`, i * PER_FOLDER, PER_FOLDER)));
});

afterEach(() => removeDir(work));

/** Message files in dst's folders now (a folder is put in place whole, with its files). */
async function placed(): Promise<number> {
  let n = 0;
  for (let i = 0; i < FOLDERS; i++) {
    for (const sub of ['cur', 'new']) n += (await readdir(join(dst, `.F${i}`, sub)).catch(() => [])).length;
  }
  return n;
}

describe('SIGINT during a backup', () => {
  it('exits 130, leaves no partial message, and the next run completes it', async () => {
    const child = spawn(process.execPath, [BIN, 'backup', '--no-progress', src, dst], {
      env: { ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    let running = true;
    void exited.then(() => { running = false; });
    while (running && (await placed()) === 0) await new Promise((r) => setTimeout(r, 10));
    expect(running).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toEqual({ code: 130, signal: null });
    expect(stderr).toContain('mdsync: interrupted; run again to finish');
    expect(await placed()).toBeLessThan(FOLDERS * PER_FOLDER);

    // Every message file in place holds the whole of its source's bytes (base names are unique here).
    const baseName = (path: string): string => (path.split('/').pop() ?? '').replace(/:2,.*$/, '');
    const source = new Map((await messageFiles(src)).map((f) => [baseName(f.path), f.sha]));
    const copied = await messageFiles(dst);
    expect(copied.length).toBeGreaterThan(0);
    for (const f of copied) expect(f.sha, f.path).toBe(source.get(baseName(f.path)));

    // The next run takes the lock over and removes what the stopped one left in tmp/.
    const again = await runCli(['backup', src, dst], work);
    expect(again.stderr).toMatch(/^(mdsync: warning: second side: removed \d+ temporary files? left by an interrupted run\n)?$/);
    expect(again.code).toBe(0);
    const verify = await runCli(['verify', src, dst], work);
    expect(verify.stdout).toContain(`identical: ${FOLDERS} folders, ${FOLDERS * PER_FOLDER} messages`);
    expect(verify.code).toBe(0);
  }, 120_000);
});
