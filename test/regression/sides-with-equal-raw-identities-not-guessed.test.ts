// Two sides whose roots have one raw identity (a local and a far Maildir on machines cloned from one
// image share dev:ino) are told apart by the host that qualifies the far one; alike in every form,
// the saved state is not turned round by guess. (orientState compared raw ids: with both equal it
// kept the state as it was, whichever order the run named the sides in.)

import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadStateFile, saveStateFile } from '../../src/cli/state-file.js';
import { LocalAgent } from '../../src/local/agent.js';
import type { Agent } from '../../src/sync/agent.js';
import { runSync, type RunOptions, type RunResult } from '../../src/sync/run.js';
import type { Side } from '../../src/sync/state.js';
import { contentsByFolder, fileName, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

const msgs = [1, 2, 3].map((i) => message(`170000000${i}.M${i}P1.host`, `m${i}`, { flags: 'S' }));

/** A Maildir whose hello reports `id`, as a root on a cloned machine would. */
async function openAs(root: string, id: string): Promise<Agent> {
  const agent = await LocalAgent.open(root, { cacheDir: join(work, 'cache'), create: true });
  return new Proxy(agent, {
    get(target, prop) {
      if (prop === 'hello') return async () => ({ ...(await target.hello()), id });
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as Agent;
}

async function run(first: string, second: string, sideIds?: Record<Side, string>): Promise<RunResult> {
  const stateFile = join(work, 'pair.state');
  const [a, b] = [await openAs(first, '2049:1234'), await openAs(second, '2049:1234')];
  try {
    const options: RunOptions = {
      mode: 'sync',
      loadState: async () => loadStateFile(stateFile),
      saveState: async (state) => saveStateFile(stateFile, state),
      ...(sideIds ? { sideIds } : {}),
    };
    return await runSync(a, b, options);
  } finally {
    await b.close();
    await a.close();
  }
}

describe('sides with one raw identity', () => {
  it('alike in every form: the reversed run is a first meeting, nothing expunged', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: msgs }]);
    await run(a, b);
    await unlink(join(a, 'cur', fileName(msgs[0]!)));
    const second = await run(b, a);
    expect(second.warnings.map((w) => w.message).join('\n')).toMatch(/cannot tell the two sides apart.*first meeting/);
    for (const root of [a, b]) expect((await contentsByFolder(root)).get('INBOX')).toHaveLength(3);
  });

  it('told apart by the far side\'s host: the reversed run turns the state round, an expunge holds', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: msgs }]);
    await run(a, b, { a: '2049:1234', b: 'far:2049:1234' });
    await unlink(join(a, 'cur', fileName(msgs[0]!)));
    const second = await run(b, a, { a: 'far:2049:1234', b: '2049:1234' });
    expect(second.warnings).toEqual([]);
    for (const root of [a, b]) expect((await contentsByFolder(root)).get('INBOX')).toHaveLength(2);
  });
});
