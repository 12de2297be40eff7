// A first copy into an empty side made a few folders at a time: the passes it reports, an exact
// replica, a saved state the next run trusts, and every operation still listed with --verbose.
// Run again after a stop, or grown by new folders, it goes on in passes.

import { mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf, runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { stateClaims } from '../helpers/state.js';
import { localTransport, REMOTE_PATH, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let src: string;

/** Passes of at least 40 messages, from 50 messages on. */
const PASSES = { MDSYNC_PASSES_FROM: '50', MDSYNC_PASS_MESSAGES: '40' };

beforeEach(async () => {
  work = await tempDir();
  src = join(work, 'src');
  await makeMaildir(src, [
    { dir: '', keywords: ['$Label1'], messages: [message('1600000001.M1P1.host', 'one', { flags: 'S', letters: 'a' }), message('1600000002.M2P1.host', 'two', { location: 'new' })] },
    bulkFolder('.Archive', 100, 45),
    bulkFolder('.Lists', 200, 30),
    bulkFolder('.Lists.Dev', 300, 20),
    { dir: '.Sent', messages: [] },
  ], ['Archive', 'Lists']);
});
afterEach(async () => removeDir(work));

describe.each([localTransport, serveTransport])('a first copy in passes ($name)', (t: SideTransport) => {
  const run = (args: string[], env: Record<string, string> = PASSES): ReturnType<typeof runCli> =>
    runCli([...args, ...t.args], work, { SSH_AUTH_SOCK: '', ...env });

  /** A backup into `dst` killed at points further and further on, until what a stop left will do (`enough`). */
  const stopAt = async (dst: string, env: Record<string, string>, enough: () => Promise<boolean>): Promise<void> => {
    // This side is the one stopped, not the far `mdsync serve`.
    const far = t.args.includes('--remote-path') ? ['--remote-path', `env -u MDSYNC_CRASH_AFTER ${REMOTE_PATH}`] : [];
    // Any point past the one that leaves enough will do, short of the run's end: large steps
    // first, then small ones back from a run that got to its end.
    let from = 0;
    for (const step of [16, 2]) {
      for (let n = from + step; n < 200; n += step) {
        for (const dir of [dst, join(work, 'state'), join(work, 'cache')]) await removeDir(dir);
        const stopped = await run(['backup', src, t.endpoint(dst), ...far], { ...env, MDSYNC_CRASH_AFTER: String(n) });
        if (stopped.code === 0) break;
        if (await enough()) return;
        from = n;
      }
    }
    throw new Error('no stop left what the test needs');
  };
  /** `mdsync verify` finds both sides alike, with these folders and messages. */
  const expectIdentical = async (a: string, b: string, what: string): Promise<void> => {
    const verify = await run(['verify', a, t.endpoint(b)]);
    expect(verify.stdout + verify.stderr).toContain(`identical: ${what}`);
    expect(verify.code).toBe(0);
  };
  /** What a run after a stop may say: at most what the stop left in tmp/, as removed. */
  const AFTER_STOP = /^(mdsync: warning: (first|second) side: removed \d+ temporary files? left by an interrupted run\n)*$/;

  it('reports its passes, leaves an exact replica, and the next run finds nothing to do', async () => {
    const dst = join(work, 'dst');
    const first = await run(['backup', '--json', src, t.endpoint(dst)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = jsonOf(first);
    // Archive (45); INBOX, Lists (32); Lists/Dev and Sent (20, the rest).
    expect(summary.passes).toBe(3);
    expect(summary.summary.copied).toEqual({ a: 0, b: 97 });
    expect(summary.summary.foldersCreated).toEqual({ a: 0, b: 5 });
    await expectIdentical(src, dst, '5 folders, 97 messages');
    const again = jsonOf(await run(['backup', '--json', src, t.endpoint(dst)]));
    expect(again.exit).toBe(0);
    expect(again.passes).toBeUndefined();
    expect(again.bytes).toBe(0);
    expect(Object.values(again.summary).every((s) => s.a === 0 && s.b === 0)).toBe(true);
  });

  it('lists every copy with --verbose, and the passes', async () => {
    const r = await run(['backup', '-v', src, t.endpoint(join(work, 'dst'))]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('copy '))).toHaveLength(97);
    expect(lines).toContain('first copy into an empty side, in 3 passes of a few folders');
  });

  it('goes in one pass below the threshold', async () => {
    const r = await run(['backup', '--json', src, t.endpoint(join(work, 'dst'))], { ...PASSES, MDSYNC_PASSES_FROM: '98' });
    expect(r.code).toBe(0);
    expect(jsonOf(r).passes).toBeUndefined();
    expect(jsonOf(r).summary.copied).toEqual({ a: 0, b: 97 });
  });

  it('goes on in passes when a first copy stopped after a checkpoint is run again', async () => {
    const dst = join(work, 'dst');
    // A pass per folder holding mail, each checkpoint saved.
    const env = { MDSYNC_PASSES_FROM: '1', MDSYNC_PASS_MESSAGES: '1', MDSYNC_CHECKPOINT_MS: '0' };
    let claimed = 0;
    // Until a stop leaves a state naming some copies.
    await stopAt(dst, env, async () => (claimed = (await stateClaims(work)).b.size) > 0);
    const again = await run(['backup', '--json', src, t.endpoint(dst)], env);
    expect(again.stderr).toMatch(AFTER_STOP);
    expect(again.code).toBe(0);
    const summary = jsonOf(again);
    expect(summary.passes).toBeGreaterThanOrEqual(2);
    // What the state names as copied is not copied again.
    expect(summary.summary.copied.b).toBeLessThanOrEqual(97 - claimed);
    await expectIdentical(src, dst, '5 folders, 97 messages');
    const quiet = jsonOf(await run(['backup', '--json', src, t.endpoint(dst)], env));
    expect(quiet.bytes).toBe(0);
    expect(quiet.passes).toBeUndefined();
  });

  it('goes on in passes when a first copy stopped before it saved a state is run again', async () => {
    const dst = join(work, 'dst');
    // A pass per folder holding mail; checkpoints every few seconds: none in a run this short.
    const env = { MDSYNC_PASSES_FROM: '1', MDSYNC_PASS_MESSAGES: '1' };
    const published = async (): Promise<number> => {
      let n = 0;
      for (const folder of ['', '.Archive', '.Lists', '.Lists.Dev', '.Sent']) {
        for (const sub of ['cur', 'new']) n += (await readdir(join(dst, folder, sub)).catch(() => [])).length;
      }
      return n;
    };
    let copied = 0;
    // Until a stop leaves a folder copied.
    await stopAt(dst, env, async () => (copied = await published()) > 0);
    // A local stop saves nothing. Over serve the far side is the one stopped, and the run that
    // fails saves what its passes before the failed one copied: never more than is there.
    const claimed = (await stateClaims(work)).b.size;
    if (t === localTransport) expect(claimed).toBe(0);
    else expect(claimed).toBeLessThanOrEqual(copied);
    const again = await run(['backup', '--json', src, t.endpoint(dst)], env);
    expect(again.stderr).toMatch(AFTER_STOP);
    expect(again.code).toBe(0);
    const summary = jsonOf(again);
    expect(summary.passes).toBeGreaterThanOrEqual(2);
    // What the stop left in place is met, not copied again.
    expect(summary.summary.copied.b).toBe(97 - copied);
    await expectIdentical(src, dst, '5 folders, 97 messages');
  });

  it('copies the folders new to the source since the last run in passes, after the ones the state knows', async () => {
    const dst = join(work, 'dst');
    const env = { MDSYNC_PASSES_FROM: '1', MDSYNC_PASS_MESSAGES: '25' };
    expect((await run(['backup', '-f', 'INBOX', '-f', 'Archive', src, t.endpoint(dst)], env)).code).toBe(0);
    const grown = await run(['backup', '-v', src, t.endpoint(dst)], env);
    expect(grown.stderr).toBe('');
    expect(grown.code).toBe(0);
    const lines = grown.stdout.split('\n');
    // Archive, INBOX and Sent (empty); Lists (30); Lists/Dev (20).
    expect(lines).toContain('folders new to a side copied in passes of a few folders: 3 passes, the first over the folders the saved state knows or both sides hold mail in');
    expect(lines.filter((l) => l.startsWith('copy '))).toHaveLength(50);
    expect(lines).toContain('backup: copied 0/50, moved 0/0, flagged 0/0, expunged 0/0, folders +0/3 -0/0 (first/second side)');
    await expectIdentical(src, dst, '5 folders, 97 messages');
  });

  it('plans a run whole where a folder the state knows was renamed: its messages are moved, not copied again', async () => {
    const dst = join(work, 'dst');
    const env = { MDSYNC_PASSES_FROM: '1', MDSYNC_PASS_MESSAGES: '25' };
    expect((await run(['backup', '-f', 'INBOX', '-f', 'Archive', src, t.endpoint(dst)], env)).code).toBe(0);
    await rename(join(src, '.Archive'), join(src, '.Archive2019'));
    const r = await run(['backup', '--json', '--force', src, t.endpoint(dst)], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = jsonOf(r);
    expect(summary.passes).toBeUndefined();
    // Archive's 45 moved on the replica; Lists and Lists/Dev copied.
    expect(summary.summary.moved.b).toBe(45);
    expect(summary.summary.copied.b).toBe(50);
    await expectIdentical(src, dst, '5 folders, 97 messages');
  });

  it('guards each pass as the run planned whole would be: expunges counted against all its folders\' messages', async () => {
    const dst = join(work, 'dst');
    await makeMaildir(src, [bulkFolder('.Big', 400, 120)]);
    const env = { MDSYNC_PASSES_FROM: '1', MDSYNC_PASS_MESSAGES: '25' };
    expect((await run(['sync', '-f', 'INBOX', '-f', 'Archive', '-f', 'Big', src, t.endpoint(dst)], env)).code).toBe(0);
    // 50 of the 167 messages the state knows expunged on the second side: more than a quarter of
    // them, not of the 217 the run holds, the count a run planned whole is guarded by (limit 54).
    const big = join(dst, '.Big', 'cur');
    for (const name of (await readdir(big)).sort().slice(0, 50)) await unlink(join(big, name));
    const r = await run(['sync', '--json', src, t.endpoint(dst)], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = jsonOf(r);
    // Archive, Big, INBOX and Sent (empty); Lists (30); Lists/Dev (20).
    expect(summary.passes).toBe(3);
    expect(summary.summary.expunged).toEqual({ a: 50, b: 0 });
    expect(summary.summary.copied).toEqual({ a: 0, b: 50 });
    await expectIdentical(src, dst, '6 folders, 167 messages');
  });

  it('fills an empty first side in a two-way sync', async () => {
    const empty = join(work, 'laptop');
    await mkdir(empty);
    const r = await run(['sync', '--json', empty, t.endpoint(src)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonOf(r).passes).toBe(3);
    expect(jsonOf(r).summary.copied).toEqual({ a: 97, b: 0 });
    await expectIdentical(empty, src, '5 folders, 97 messages');
  });
});
