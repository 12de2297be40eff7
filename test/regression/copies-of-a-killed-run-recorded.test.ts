// A run killed with SIGKILL after some of its copies were placed (no exit path ran, no state was
// saved) has them recorded all the same: when the origin then expunges or moves them, the next run
// does the same on the other side, at every point the run can be killed (before, they came back).

import { createHash } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { addMessage, contentsByFolder, fileName, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';

// Three runs per point the run can be killed at, on two busy cores.
const SWEEP_TIMEOUT_MS = 300_000;

let work: string;

beforeAll(async () => {
  work = await tempDir();
});

afterAll(async () => {
  await removeDir(work);
});

const sha = (body: string): string => createHash('sha256').update(body).digest('hex');
const old = message('1600000001.M1P1.host', 'old');
const sent = message('1600000002.M2P1.host', 'sent before');
const fresh = [11, 12, 13, 14].map((n) => message(`16000000${n}.M${n}P1.host`, `new ${n}`, { location: 'new' }));

describe('copies of a run killed with SIGKILL', () => {
  // The last: the next run names the sides the other way round (`sync b a`), the same pair.
  it.each([['sync', [], false], ['sync --one-way', ['--one-way'], false], ['sync, then sync b a', [], true]] as const)('are recorded: %s, then an expunge and a move on the origin are repeated at every point', async (name, flags, turned) => {
    let killedAfterCopies = 0;
    for (let n = 1; ; n++) {
      const dir = join(work, `${name.replace(/\W/g, '')}-${n}`);
      const a = join(dir, 'a');
      const b = join(dir, 'b');
      const home = join(dir, 'home');
      const sync = (env: Record<string, string> = {}): ReturnType<typeof runCli> => runCli(['sync', ...flags, a, b], home, env);
      await makeMaildir(a, [{ dir: '', messages: [old] }, { dir: '.Sent', messages: [sent] }]);
      expect((await sync()).code).toBe(0);
      for (const m of fresh) await addMessage(a, '', m);

      const killed = await sync({ MDSYNC_CRASH_AFTER: String(n) });
      if (killed.code === 0) break;
      expect(killed.code, killed.stderr).toBe(-1);
      const onB = new Set((await contentsByFolder(b)).get('INBOX'));
      const placed = fresh.filter((m) => onB.has(sha(m.body)));
      if (placed.length === 0) {
        await removeDir(dir);
        continue;
      }
      killedAfterCopies++;
      const [expunged, moved] = placed as [typeof fresh[number], typeof fresh[number] | undefined];
      await rm(join(a, 'new', fileName(expunged)));
      if (moved) await rename(join(a, 'new', fileName(moved)), join(a, '.Sent', 'cur', `${moved.base}:2,S`));
      const next = turned ? await runCli(['sync', b, a], home) : await sync();
      expect(next.code, `killed before change ${n}: ${next.stderr}`).toBe(0);
      const inbox = [old, ...fresh.filter((m) => m !== expunged && m !== moved)];
      const want = new Map([['INBOX', inbox.map((m) => sha(m.body)).sort()], ['.Sent', [sent, ...(moved ? [moved] : [])].map((m) => sha(m.body)).sort()]]);
      expect(await contentsByFolder(a), `killed before change ${n}`).toEqual(want);
      expect(await contentsByFolder(b), `killed before change ${n}`).toEqual(want);
      expect((await readdir(join(home, 'state', 'mdsync'))).filter((f) => f.includes('.journal'))).toEqual([]);
      await removeDir(dir);
    }
    expect(killedAfterCopies).toBeGreaterThan(0);
  }, SWEEP_TIMEOUT_MS);
});
