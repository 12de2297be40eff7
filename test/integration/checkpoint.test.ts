// Checkpoints of a long first copy: every state saved while folders are still being copied names
// only messages a reader finds on disk, never those of a folder still staged (built aside in tmp/).

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveStateFile } from '../../src/cli/state-file.js';
import { LocalAgent } from '../../src/local/agent.js';
import { parseState } from '../../src/sync/state.js';
import { runSync } from '../../src/sync/run.js';
import { bulkFolder, makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';
import { namesOnDisk } from '../helpers/state.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => removeDir(work));

/** Folder directory and base name of each message a saved state says the second side holds. */
async function claimedOnB(file: string): Promise<string[]> {
  const saved = parseState(await readFile(file));
  if (saved.kind !== 'ok') throw new Error(`${file}: ${saved.why}`);
  const out: string[] = [];
  for (const [folder, sf] of Object.entries(saved.state.folders)) {
    for (const m of sf.messages) if (m.b) out.push(`${folder === 'INBOX' ? 'INBOX' : `.${folder}`}\0${m.b.guid}`);
  }
  return out;
}

/** Message files in the second side's staged folders (its tmp/ directories' directories). */
async function stagedFiles(root: string): Promise<number> {
  let n = 0;
  for (const entry of await readdir(join(root, 'tmp'), { withFileTypes: true })) {
    if (entry.isDirectory()) n += (await readdir(join(root, 'tmp', entry.name, 'cur'))).length;
  }
  return n;
}

describe('checkpoints of a first copy', () => {
  it('never name a message of a folder not yet published', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    // Two lanes, one task at a time: Alpha's batch, Beta's first, Gamma's, then the rest of Beta.
    // Gamma done, a checkpoint comes while Beta (staged) holds one batch of its four.
    await makeMaildir(a, [bulkFolder('.Alpha', 1000, 128), bulkFolder('.Beta', 2000, 512), bulkFolder('.Gamma', 3000, 128)]);
    const stateFile = join(work, 'state');
    const agentA = await LocalAgent.open(a, { cacheDir: join(work, 'cache') });
    const agentB = await LocalAgent.open(b, { cacheDir: join(work, 'cache'), create: true });
    const saves: { claimed: number; staged: number }[] = [];
    try {
      const result = await runSync(agentA, agentB, {
        mode: 'backup',
        // A checkpoint at every folder finished.
        checkpointMs: 0,
        jobs: 1,
        loadState: async () => ({}),
        saveState: async (state) => {
          const staged = await stagedFiles(b);
          await saveStateFile(stateFile, state);
          const claimed = await claimedOnB(stateFile);
          const onDisk = await namesOnDisk(b);
          expect(claimed.filter((k) => !onDisk.has(k)), 'claimed but not where a reader looks').toEqual([]);
          saves.push({ claimed: claimed.length, staged });
        },
      });
      expect(result.summary.transfers.b).toBe(768);
    } finally {
      await agentB.close();
      await agentA.close();
    }
    // A checkpoint came while a batch sat in a staged folder, and the last state names them all.
    expect(saves).toContainEqual({ claimed: 256, staged: 128 });
    expect(saves.at(-1)).toEqual({ claimed: 768, staged: 0 });
    expect((await namesOnDisk(b)).size).toBe(768);
  });
});
