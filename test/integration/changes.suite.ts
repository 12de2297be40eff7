// A large folder changed on the far side after a sync: its changes travel, not its manifest, and both sides end exact.

import { rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf, type CliResult } from '../helpers/cli.js';
import { addMessage, fileName, makeMaildir, message, messageFiles, removeDir, tempDir, type MessageSpec } from '../helpers/maildir.js';
import { cliVia, type SideTransport } from '../helpers/transports.js';

export const COUNT = 2000;
const inbox = (n: number, extra: Partial<MessageSpec> = {}): MessageSpec =>
  message(`16${String(n).padStart(8, '0')}.M${n}P1.host`, `message ${n}`, { flags: n % 4 === 0 ? '' : 'S', ...extra });
/** The least the far side's manifest of the folder costs on the wire: every message's name. */
export const MANIFEST_FLOOR = COUNT * inbox(1).base.length;

/** What a user compares: each message file's folder, name (flags included), bytes and arrival date. */
export async function files(root: string): Promise<{ path: string; sha: string; mtimeMs: number }[]> {
  return (await messageFiles(root)).map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));
}

/**
 * Syncs a folder of COUNT messages to the far side reached through `first`, changes a few of them
 * there as a mail client would (and one here), and syncs again through `then` (same endpoints).
 */
export async function changeFarSide(work: string, pair: string, first: SideTransport, then: SideTransport): Promise<{ a: string; b: string; second: CliResult }> {
  const a = join(work, pair, 'a');
  const b = join(work, pair, 'b');
  await makeMaildir(a, [{ dir: '', messages: Array.from({ length: COUNT }, (_, i) => inbox(i + 1)) }]);
  const initial = await cliVia(first, work)(['sync', a, first.endpoint(b), '--json']);
  expect(initial.stderr).toBe('');
  expect(initial.code).toBe(0);
  // The far side: a flag change, a new message, an expunge. This side: a flag change.
  await rename(join(b, 'cur', fileName(inbox(10))), join(b, 'cur', fileName(inbox(10, { flags: 'FS' }))));
  await addMessage(b, '', inbox(COUNT + 1, { location: 'new', flags: '', mtime: new Date('2024-05-06T07:08:09Z') }));
  await unlink(join(b, 'cur', fileName(inbox(20))));
  await rename(join(a, 'cur', fileName(inbox(30))), join(a, 'cur', fileName(inbox(30, { flags: 'RS' }))));
  const second = await cliVia(then, work)(['sync', a, then.endpoint(b), '--json']);
  return { a, b, second };
}

/** Both sides hold the same files, with every change of either side applied. */
export async function expectChangesApplied(work: string, t: SideTransport, a: string, b: string): Promise<void> {
  const here = await files(a);
  expect(await files(b)).toEqual(here);
  const names = here.map((f) => f.path);
  expect(names).toHaveLength(COUNT);
  expect(names).toContain(`cur/${fileName(inbox(10, { flags: 'FS' }))}`);
  expect(names).toContain(`cur/${fileName(inbox(30, { flags: 'RS' }))}`);
  expect(names).toContain(`new/${fileName(inbox(COUNT + 1, { location: 'new', flags: '' }))}`);
  expect(here.find((f) => f.path.startsWith('new/'))?.mtimeMs).toBe(Date.parse('2024-05-06T07:08:09Z'));
  expect(names.filter((p) => p.includes(inbox(20).base))).toEqual([]);
  const v = await cliVia(t, work)(['verify', a, t.endpoint(b)]);
  expect(v.stdout).toContain(`identical: 1 folder, ${COUNT} messages`);
  expect(v.code).toBe(0);
}

/** The suite, with the far side reached through `t`. */
export function changesSuite(t: SideTransport): void {
  describe(`a large folder changed on the far side (${t.name})`, () => {
    let work: string;

    beforeEach(async () => {
      work = await tempDir();
      await t.prepare?.(work);
    });

    afterEach(async () => {
      await removeDir(work);
    });

    it('travels as its changes, far below what its manifest costs, and both sides end exact', async () => {
      const { a, b, second } = await changeFarSide(work, 'pair', t, t);
      expect(second.stderr).toBe('');
      expect(second.code).toBe(0);
      await expectChangesApplied(work, t, a, b);
      expect((jsonOf(second).wire.b?.received ?? Infinity) * 20).toBeLessThan(MANIFEST_FLOOR);
      // A re-run finds nothing to do.
      const again = await cliVia(t, work)(['sync', a, t.endpoint(b), '--json']);
      expect(again.code).toBe(0);
      expect(jsonOf(again).bytes).toBe(0);
      expect(await files(b)).toEqual(await files(a));
    });
  });
}
