// A 200 MB message crosses SSH both ways with bounded memory: peak RSS of each mdsync well under its size.

import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';
import { ssh2Transport } from '../helpers/ssh-transports.js';
import { useSshd } from '../helpers/sshd-fixture.js';

// LARGE_MESSAGE_MB=400 shows the peak does not grow with the message (50 MB: ~99 MB, 400 MB: ~107 MB here).
const SIZE = Number(process.env.LARGE_MESSAGE_MB ?? 200) * 1024 * 1024;
// Node itself takes ~55 MB; released chunks wait for the garbage collector, which runs on external
// memory growth, so a busy machine sees up to ~80 MB more. Far under the message, and flat in its size.
const PEAK_LIMIT = 150 * 1024 * 1024;
const MB = 1024 * 1024;
let work: string;

/** Peak resident memory (VmHWM) of every process whose command line mentions `marker`, sampled until `run` ends. */
async function peakRss(marker: string, run: Promise<CliResult>): Promise<{ result: CliResult; peaks: Map<string, number> }> {
  const peaks = new Map<string, number>();
  let done = false;
  const sample = async (): Promise<void> => {
    for (const pid of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (!cmdline.includes(marker) || !cmdline.includes('mdsync.js')) continue;
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (!hwm) continue;
      const role = cmdline.includes('\0serve\0') ? 'serve' : 'client';
      peaks.set(role, Math.max(peaks.get(role) ?? 0, Number(hwm[1]) * 1024));
    }
  };
  const sampling = (async () => {
    while (!done) {
      await sample();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const result = await run;
  done = true;
  await sampling;
  return { result, peaks };
}

async function fileSha(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('a 200 MB message over SSH', () => {
  const server = useSshd();

  beforeAll(async () => {
    work = await tempDir();
  });

  afterAll(async () => {
    if (work) await removeDir(work);
  });

  it('goes over and comes back byte for byte, each process far below the message size', async () => {
    const src = join(work, 'src');
    const dst = join(work, 'dst');
    const back = join(work, 'back');
    await makeMaildir(src, [{ dir: '', messages: [] }]);
    const name = '1700000000.M1P1.bighost:2,S';
    const path = join(src, 'cur', name);
    const handle = await open(path, 'wx');
    const block = Buffer.alloc(MB);
    for (let i = 0; i < SIZE / MB; i++) {
      block.fill(i % 251);
      block.write(`Block ${i}\n`, 0);
      await handle.write(block);
    }
    await handle.close();
    await utimes(path, new Date('2021-03-04T05:06:07Z'), new Date('2021-03-04T05:06:07Z'));
    const t = ssh2Transport(server);
    await t.prepare?.(work);
    const cli = (args: string[]): Promise<CliResult> => runCli([...args, ...t.args], work, { SSH_AUTH_SOCK: '' });

    const up = await peakRss(work, cli(['backup', src, t.endpoint(dst), '--json']));
    expect(up.result.stderr).toBe('');
    expect(up.result.code).toBe(0);
    expect(JSON.parse(up.result.stdout.trim()).bytes).toBe(SIZE);
    expect(await fileSha(join(dst, 'cur', name))).toBe(await fileSha(path));
    expect(Math.floor((await stat(join(dst, 'cur', name))).mtimeMs)).toBe((await stat(path)).mtimeMs);

    const down = await peakRss(work, cli(['backup', t.endpoint(dst), back]));
    expect(down.result.code).toBe(0);
    expect(await fileSha(join(back, 'cur', name))).toBe(await fileSha(path));

    for (const [direction, { peaks }] of [['up', up], ['down', down]] as const) {
      expect([...peaks.keys()].sort(), direction).toEqual(['client', 'serve']);
      for (const [role, peak] of peaks) expect(peak, `${direction} ${role} peak RSS ${Math.round(peak / MB)} MB`).toBeLessThan(PEAK_LIMIT);
    }
    process.stdout.write(`peak RSS up: ${[...up.peaks].map(([r, p]) => `${r} ${Math.round(p / MB)} MB`).join(', ')}; down: ${[...down.peaks].map(([r, p]) => `${r} ${Math.round(p / MB)} MB`).join(', ')}\n`);
  }, 300_000);
});
