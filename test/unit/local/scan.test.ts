// A folder listed again, following the listing before: the same files found without looking
// them up, and what came, went or was renamed told apart.

import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileTable } from '../../../src/local/file-table.js';
import { scanFolder } from '../../../src/local/scan.js';

describe('scanFolder following a previous listing', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mdsync-scan-'));
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub));
    for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'cur', `17000${String(i).padStart(5, '0')}.M${i}P1.host:2,S`), `message ${i}\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the files of two interleaved runs of the listing before without looking them up', async () => {
    const first = await scanFolder(dir, ':');
    const listed = [...first.files.values()];
    expect(listed).toHaveLength(200);
    // The listing before held every other file first: the directory now lists two runs of it
    // interleaved, as after two threads wrote the folder at once.
    const previous = FileTable.of(':', [...listed.filter((_, i) => i % 2 === 0), ...listed.filter((_, i) => i % 2 === 1)]);
    previous.pack();
    // A file looked up by its GUID in the listing before.
    const lookups = vi.spyOn(previous, 'indexOf');
    const again = await scanFolder(dir, ':', previous);
    expect(again.files.size).toBe(200);
    for (const file of listed) expect(again.files.holds(file)).toBe(true);
    // Every file of the listing before was listed again, none anew.
    expect([...(again.followed?.again ?? [])]).toEqual(new Array(200).fill(1));
    expect(again.followed?.anew).toEqual([]);
    expect(lookups.mock.calls.length).toBeLessThanOrEqual(4);
  });

  it('tells files listed again from files renamed, added and gone', async () => {
    const first = await scanFolder(dir, ':');
    const [kept, renamed, gone] = [...first.files.values()];
    if (!kept || !renamed || !gone) throw new Error('expected files');
    renameSync(join(dir, 'cur', renamed.name), join(dir, 'cur', `${renamed.guid}:2,FS`));
    unlinkSync(join(dir, 'cur', gone.name));
    writeFileSync(join(dir, 'new', '1800000000.M1P1.host'), 'new\n');
    const again = await scanFolder(dir, ':', first.files);
    expect(again.files.size).toBe(200);
    const listedAgain = (guid: string): boolean => again.followed?.again[first.files.indexOf(guid)] === 1;
    expect(again.files.holds(kept)).toBe(true);
    expect(listedAgain(kept.guid)).toBe(true);
    expect(again.files.holds(renamed)).toBe(false);
    expect(listedAgain(renamed.guid)).toBe(false);
    expect(again.files.get(renamed.guid)?.name).toBe(`${renamed.guid}:2,FS`);
    expect(listedAgain(gone.guid)).toBe(false);
    expect(again.files.has(gone.guid)).toBe(false);
    expect(again.files.get('1800000000.M1P1.host')?.location).toBe('new');
    expect(again.followed?.anew.map((f) => f.name).sort()).toEqual([`${renamed.guid}:2,FS`, '1800000000.M1P1.host'].sort());
  });
});
