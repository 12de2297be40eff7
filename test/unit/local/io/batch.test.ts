// Batches of message files written and copied: every file placed whole, with its bytes and mtime,
// whether its batch's fsyncs run one after another (tmpfs) or all at once (a disk); a taken name
// or a failure leaves the file to the caller and nothing behind in tmp/.

import { createHash } from 'node:crypto';
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runJob, type CopyOutcome, type WriteItem, type WriteOutcome } from '../../../../src/local/io/batch.js';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const COUNT = 40;
const MTIME = Date.UTC(2019, 4, 1, 12, 30, 15, 250);

let root: string;
let tmp: string;
let cur: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mdsync-batch-io-'));
  tmp = join(root, 'tmp');
  cur = join(root, 'cur');
  await Promise.all([mkdir(tmp), mkdir(cur)]);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const body = (i: number): Buffer => Buffer.from(`Subject: message ${i}\r\n\r\n${'y'.repeat(i * 53)}\r\n`);
const target = (i: number): string => join(cur, `${1_700_000_000 + i}.M${i}P7.host:2,S`);

function items(direct = false): WriteItem[] {
  return Array.from({ length: COUNT }, (_, i) => ({ tmp: direct ? '' : join(tmp, `t${i}`), target: target(i), data: body(i), mtimeMs: MTIME + i * 1000 }));
}

async function expectPlaced(i: number, mtimeMs = MTIME + i * 1000): Promise<void> {
  expect(await readFile(target(i))).toEqual(body(i));
  expect(Math.floor((await stat(target(i))).mtimeMs)).toBe(mtimeMs);
}

// A threshold no fsync reaches keeps them one after another; zero sends every one after the first to libuv's threads.
for (const [mode, costly] of [['one after another', 10n ** 15n], ['all at once', 0n]] as const) {
  describe(`fsyncs ${mode}`, () => {
    it('writes every file under its name with its bytes and mtime, and leaves tmp/ empty', async () => {
      const out = (await runJob({ kind: 'write', items: items() }, costly)) as WriteOutcome[];
      expect(out).toEqual(Array.from({ length: COUNT }, (_, i) => ({ kind: 'ok', hash: sha256(body(i)) })));
      for (let i = 0; i < COUNT; i++) await expectPlaced(i);
      expect(await readdir(tmp)).toEqual([]);
    });

    it('hands back a file whose name is taken, and leaves the file there untouched', async () => {
      await writeFile(target(7), 'already here');
      const out = (await runJob({ kind: 'write', items: items() }, costly)) as WriteOutcome[];
      expect(out[7]).toEqual({ kind: 'again' });
      expect(await readFile(target(7), 'utf8')).toBe('already here');
      for (let i = 0; i < COUNT; i++) if (i !== 7) await expectPlaced(i);
      expect(await readdir(tmp)).toEqual([]);
    });

    it('in a staged folder, creates each file under its name and hands back a taken one untouched', async () => {
      await writeFile(target(3), 'already here');
      const out = (await runJob({ kind: 'write', items: items(true), direct: true }, costly)) as WriteOutcome[];
      expect(out[3]).toEqual({ kind: 'again' });
      expect(await readFile(target(3), 'utf8')).toBe('already here');
      for (let i = 0; i < COUNT; i++) if (i !== 3) await expectPlaced(i);
      expect((await readdir(cur)).length).toBe(COUNT);
    });

    it('after a file it cannot create, places those before it and hands back it and the rest, leaving nothing behind', async () => {
      const batch = items();
      batch[20] = { ...batch[20], tmp: join(root, 'no-such-dir', 't20') };
      const out = (await runJob({ kind: 'write', items: batch }, costly)) as WriteOutcome[];
      expect(out.slice(0, 20).every((o) => o.kind === 'ok')).toBe(true);
      expect(out.slice(20)).toEqual(Array.from({ length: COUNT - 20 }, () => ({ kind: 'again' })));
      for (let i = 0; i < 20; i++) await expectPlaced(i);
      expect((await readdir(cur)).length).toBe(20);
      expect(await readdir(tmp)).toEqual([]);
    });

    it('copies files from another Maildir with their bytes and mtimes, and hands back a source that is gone', async () => {
      const from = join(root, 'from');
      await mkdir(from);
      const sources = await Promise.all(
        Array.from({ length: COUNT }, async (_, i) => {
          const path = join(from, `s${i}`);
          await writeFile(path, body(i));
          return path;
        }),
      );
      await rm(sources[11]);
      const before = await Promise.all(sources.map((s, i) => (i === 11 ? 0 : stat(s).then((st) => Math.floor(st.mtimeMs)))));
      const job = { kind: 'copy' as const, items: sources.map((source, i) => ({ source, tmp: join(tmp, `c${i}`), target: target(i) })), inlineMax: 1 << 20 };
      const out = (await runJob(job, costly)) as CopyOutcome[];
      expect(out[11]).toEqual({ kind: 'again' });
      for (let i = 0; i < COUNT; i++) {
        if (i === 11) continue;
        expect(out[i]).toEqual({ kind: 'ok', hash: sha256(body(i)), size: body(i).length, mtime: before[i] });
        await expectPlaced(i, before[i]);
      }
      expect((await readdir(cur)).length).toBe(COUNT - 1);
      expect(await readdir(tmp)).toEqual([]);
    });
  });
}

describe('copies of a file with other names (twins.ts)', () => {
  it('links a source only when its bytes have the hash asked, and never copies it byte for byte instead', async () => {
    const source = join(root, 'source');
    await writeFile(source, body(3));
    const items = [
      { source, tmp: '', target: target(1), hash: sha256(body(3)) },
      { source, tmp: '', target: target(2), hash: sha256(body(4)) },
    ];
    const linked = (await runJob({ kind: 'copy', items, inlineMax: 1 << 20, link: true, direct: true })) as CopyOutcome[];
    expect(linked[0]).toMatchObject({ kind: 'ok', hash: sha256(body(3)) });
    expect(linked[1]).toEqual({ kind: 'again' });
    expect((await stat(target(1))).ino).toBe((await stat(source)).ino);
    // Not in one Maildir (no link asked): not copied either.
    const other = (await runJob({ kind: 'copy', items: [{ source, tmp: '', target: target(5), hash: sha256(body(3)) }], inlineMax: 1 << 20, direct: true })) as CopyOutcome[];
    expect(other[0]).toEqual({ kind: 'again' });
    expect(await readdir(cur)).toEqual([target(1).slice(cur.length + 1)]);
  });

  it('hands back a source with other names as a twin, uncopied, when asked; a file with one name is copied', async () => {
    const single = join(root, 'single');
    const twin = join(root, 'twin');
    await writeFile(single, body(1));
    await writeFile(twin, body(2));
    await link(twin, join(root, 'twin-elsewhere'));
    const items = [single, twin].map((source, i) => ({ source, tmp: join(tmp, `t${i}`), target: target(i) }));
    const out = (await runJob({ kind: 'copy', items, inlineMax: 1 << 20, twins: true })) as CopyOutcome[];
    expect(out[0]).toMatchObject({ kind: 'ok', hash: sha256(body(1)) });
    const st = await stat(twin);
    expect(out[1]).toEqual({ kind: 'twin', inode: `${st.dev}:${st.ino}`, hash: sha256(body(2)), mtime: Math.floor(st.mtimeMs) });
    expect(await readdir(cur)).toEqual([target(0).slice(cur.length + 1)]);
  });
});
