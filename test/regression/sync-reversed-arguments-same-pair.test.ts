// `sync B A` after `sync A B`, or A named through a symlink, is the same pair: its state is found.
// (The state was keyed by argument order and path as typed: a silent first meeting brought back
// expunged messages and doubled moved ones.)

import { createHash } from 'node:crypto';
import { readdir, rename, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { contentsByFolder, fileName, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

const msgs = [1, 2, 3, 4].map((i) => message(`160000000${i}.M${i}P1.host`, `m${i}`, { flags: 'S' }));

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** m1 once, in Work; m2 nowhere; m3 and m4 in INBOX. */
async function expectMovedAndExpunged(root: string): Promise<void> {
  const byFolder = await contentsByFolder(root);
  expect(Object.fromEntries(byFolder)).toEqual({
    INBOX: [sha(msgs[2]!.body), sha(msgs[3]!.body)].sort(),
    '.Work': [sha(msgs[0]!.body)],
  });
}

describe.each<[string, SideTransport, boolean]>([
  ['reversed arguments', localTransport, false],
  ['reversed arguments, A through a symlink', localTransport, true],
  ['reversed arguments, B through mdsync serve', serveTransport, false],
])('%s', (_name, t, viaLink) => {
  it('finds the pair\'s state: a move is not doubled, an expunge holds', async () => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: msgs }, { dir: '.Work', messages: [] }]);
    const cli = cliVia(t, home);
    const first = await cli(['sync', a, t.endpoint(b)]);
    expect(first.code, first.stderr).toBe(0);
    // On A: m1 moved into Work, m2 expunged.
    const m1 = msgs[0]!;
    await rename(join(a, 'cur', fileName(m1)), join(a, '.Work', 'cur', fileName(m1)));
    await unlink(join(a, 'cur', fileName(msgs[1]!)));
    let aName = a;
    if (viaLink) {
      aName = join(work, 'link-to-a');
      await symlink(a, aName);
    }
    const second = await cli(['sync', t.endpoint(b), aName, '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/first meeting/);
    await expectMovedAndExpunged(a);
    await expectMovedAndExpunged(b);
    // Saved the other way round, the state turns back for the first order: an expunge on B holds.
    const m3 = msgs[2]!;
    await unlink(join(b, 'cur', fileName(m3)));
    const third = await cli(['sync', aName, t.endpoint(b)]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toMatch(/first meeting/);
    for (const root of [a, b]) expect(Object.fromEntries(await contentsByFolder(root))).toEqual({ INBOX: [sha(msgs[3]!.body)], '.Work': [sha(msgs[0]!.body)] });
  });
});

describe('a state saved by an older version, under the key of the paths as typed', () => {
  it('is found once, then saved under the new key and removed', async () => {
    const home = join(work, 'home');
    const stateDir = join(home, 'state', 'mdsync');
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: msgs }, { dir: '.Work', messages: [] }]);
    const first = await runCli(['sync', a, b], home);
    expect(first.code, first.stderr).toBe(0);
    // As the older version left it: one file named after "<a>\n<b>", nothing else.
    const [saved] = (await readdir(stateDir)).filter((f) => f.endsWith('.state'));
    const legacy = `${sha(`${a}\n${b}`).slice(0, 32)}.state`;
    await rename(join(stateDir, saved!), join(stateDir, legacy));
    for (const f of await readdir(stateDir)) if (f.endsWith('.pair')) await unlink(join(stateDir, f));
    const m1 = msgs[0]!;
    await rename(join(a, 'cur', fileName(m1)), join(a, '.Work', 'cur', fileName(m1)));
    await unlink(join(a, 'cur', fileName(msgs[1]!)));
    const second = await runCli(['sync', b, a], home);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/first meeting/);
    await expectMovedAndExpunged(a);
    await expectMovedAndExpunged(b);
    const left = (await readdir(stateDir)).filter((f) => f.endsWith('.state'));
    expect(left).toHaveLength(1);
    expect(left).not.toContain(legacy);
  });
});
