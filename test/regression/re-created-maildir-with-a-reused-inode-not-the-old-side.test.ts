// A Maildir re-created in a directory that got a removed one's inode back is a new side: the old
// pair's state is not trusted. (The state was keyed by dev:ino alone: `sync A C`, C holding part of
// the mail, expunged from A every message C lacked.)

import { createHash } from 'node:crypto';
import { readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseState, serializeState } from '../../src/sync/state.js';
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

const msgs = Array.from({ length: 10 }, (_, i) => message(`16000000${10 + i}.M${i}P1.host`, `m${i}`, { flags: 'S' }));

/**
 * Makes the pair's saved state say its second side had `dir`'s inode: what a removed Maildir whose
 * inode the file system gave to `dir` leaves (ext4, XFS and tmpfs reuse them, but not on demand).
 */
async function inheritInode(stateDir: string, oldIno: number, dir: string): Promise<void> {
  const { dev, ino } = await stat(dir);
  if (ino === oldIno) return;
  const [file] = (await readdir(stateDir)).filter((f) => f.endsWith('.state'));
  const parsed = parseState(await readFile(join(stateDir, file!)));
  if (parsed.kind !== 'ok') throw new Error(parsed.why);
  const idB = parsed.state.idB.replace(`${dev}:${oldIno}`, `${dev}:${ino}`);
  expect(idB).not.toBe(parsed.state.idB);
  await writeFile(join(stateDir, file!), serializeState({ ...parsed.state, idB }));
}

describe.each<[string, SideTransport]>([
  ['local', localTransport],
  ['the replica through mdsync serve', serveTransport],
])('%s', (_name, t) => {
  it('meets it as a first meeting: nothing expunged from the other side', async () => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    const b = join(work, 'mirror');
    await makeMaildir(a, [{ dir: '', messages: msgs }]);
    const cli = cliVia(t, home);
    const first = await cli(['sync', a, t.endpoint(b)]);
    expect(first.code, first.stderr).toBe(0);
    const ino = (await stat(b)).ino;
    await removeDir(b);
    await makeMaildir(b, [{ dir: '', messages: msgs.slice(0, 3) }]);
    await inheritInode(join(home, 'state', 'mdsync'), ino, b);
    const second = await cli(['sync', a, t.endpoint(b)]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/first meeting/);
    const all = (await contentsByFolder(a)).get('INBOX');
    expect(all).toHaveLength(10);
    expect((await contentsByFolder(b)).get('INBOX')).toEqual(all);
  });
});

describe('a state saved when the sides were known by dev:ino alone', () => {
  it('is taken once (no first meeting), then saved with the new identities', async () => {
    const home = join(work, 'home');
    const stateDir = join(home, 'state', 'mdsync');
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: msgs }]);
    const first = await runCli(['sync', a, b], home);
    expect(first.code, first.stderr).toBe(0);
    // As the previous version left it: ids dev:ino, the file keyed by them, the paths' pointer naming it.
    const [saved] = (await readdir(stateDir)).filter((f) => f.endsWith('.state'));
    const parsed = parseState(await readFile(join(stateDir, saved!)));
    if (parsed.kind !== 'ok') throw new Error(parsed.why);
    const old = async (root: string): Promise<string> => { const st = await stat(root); return `${st.dev}:${st.ino}`; };
    const ids = [await old(a), await old(b)];
    expect(parsed.state.idA).not.toBe(ids[0]);
    const legacy = `${createHash('sha256').update([...ids].sort().join('\n')).digest('hex').slice(0, 32)}.state`;
    await writeFile(join(stateDir, legacy), serializeState({ ...parsed.state, idA: ids[0]!, idB: ids[1]! }));
    await unlink(join(stateDir, saved!));
    const [pointer] = (await readdir(stateDir)).filter((f) => f.endsWith('.pair'));
    await writeFile(join(stateDir, pointer!), `${legacy}\n`);
    await unlink(join(a, 'cur', fileName(msgs[0]!)));
    const second = await runCli(['sync', b, a], home);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/first meeting|not the Maildir/);
    expect((await contentsByFolder(b)).get('INBOX')).toHaveLength(9);
    const states = (await readdir(stateDir)).filter((f) => f.endsWith('.state'));
    expect(states).toEqual([saved]);
    const now = parseState(await readFile(join(stateDir, saved!)));
    if (now.kind !== 'ok') throw new Error(now.why);
    expect([now.state.idA, now.state.idB]).toEqual([parsed.state.idB, parsed.state.idA]);
  });
});
