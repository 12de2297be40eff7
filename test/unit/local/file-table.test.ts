// The packed listing against a Map of file objects, the listing it replaces: any sequence of
// files listed, placed, renamed and taken out gives the same files, found the same way, and the
// same after a round trip through a scan cache record.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileTable, FileTableBuilder, ListedFile, type ScannedFile } from '../../../src/local/file-table.js';
import type { Location } from '../../../src/model.js';
import { guidOfName } from '../../../src/local/name.js';

const plain = (f: ScannedFile): { name: string; location: Location; guid: string; hash?: string } =>
  f.hash === undefined ? { name: f.name, location: f.location, guid: f.guid } : { name: f.name, location: f.location, guid: f.guid, hash: f.hash };

const sorted = (files: Iterable<ScannedFile>): ReturnType<typeof plain>[] => [...files].map(plain).sort((x, y) => (x.guid < y.guid ? -1 : 1));

const HEX = 'a'.repeat(63);
const guidArb = fc.integer({ min: 0, max: 60 }).map((n) => `17000000${String(n).padStart(2, '0')}.M${n}P1.host,S=${100 + n}`);
const fileArb = fc.record({
  guid: guidArb,
  flags: fc.constantFrom('', 'S', 'FS', 'RSa'),
  location: fc.constantFrom('new', 'cur') as fc.Arbitrary<'new' | 'cur'>,
  // Hex hashes are kept as bytes, others as they are.
  hash: fc.option(fc.constantFrom(`${HEX}0`, `${HEX}f`, 'not-hex'), { nil: undefined }),
});
const opArb = fc.oneof(
  fileArb.map((f) => ({ kind: 'set' as const, f })),
  guidArb.map((guid) => ({ kind: 'delete' as const, guid })),
  fc.constant({ kind: 'pack' as const }),
);

function fileOf(f: { guid: string; flags: string; location: 'new' | 'cur'; hash?: string }): ScannedFile {
  const name = f.location === 'new' && f.flags === '' ? f.guid : `${f.guid}:2,${f.flags}`;
  const file = new ListedFile(name, f.location, ':', f.guid);
  if (f.hash !== undefined) file.hash = f.hash;
  return file;
}

describe('FileTable', () => {
  it('holds what a Map of the same files holds, through placements, removals, packing and the cache', () => {
    fc.assert(fc.property(fc.array(fileArb, { maxLength: 40 }), fc.array(opArb, { maxLength: 80 }), (listed, ops) => {
      const model = new Map<string, ScannedFile>();
      const builder = new FileTableBuilder(':', listed.length);
      for (const f of listed) {
        const file = fileOf(f);
        if (builder.get(file.guid)) {
          expect(model.has(file.guid)).toBe(true);
          continue;
        }
        builder.add(file.name, file.location, file.guid.length, file.hash);
        model.set(file.guid, file);
      }
      expect(builder.size).toBe(model.size);
      const table = FileTable.built(':', builder);
      for (const op of ops) {
        if (op.kind === 'set') {
          const file = fileOf(op.f);
          table.set(file);
          model.set(file.guid, file);
        } else if (op.kind === 'delete') {
          expect(table.delete(op.guid)).toBe(model.delete(op.guid));
        } else {
          table.pack();
        }
        expect(table.size).toBe(model.size);
      }
      expect(sorted(table.values())).toEqual(sorted(model.values()));
      for (let n = 0; n <= 60; n++) {
        const guid = `17000000${String(n).padStart(2, '0')}.M${n}P1.host,S=${100 + n}`;
        const want = model.get(guid);
        expect(table.has(guid)).toBe(want !== undefined);
        expect(table.get(guid) && plain(table.get(guid) as ScannedFile)).toEqual(want && plain(want));
        if (want) {
          expect(table.holds(want)).toBe(true);
          expect(table.holds({ ...plain(want), name: `${guid}:2,T` })).toBe(want.name === `${guid}:2,T`);
          expect(table.holds({ ...plain(want), location: want.location === 'new' ? 'cur' : 'new' })).toBe(false);
        }
      }
      const back = FileTable.fromRecord(table.toRecord(() => undefined), ':');
      expect(back && sorted(back.values())).toEqual(sorted(model.values()));
    }), { numRuns: 300 });
  });

  it('packs files set after it was built once they are many, and finds each of thousands', () => {
    const table = FileTable.empty(':');
    for (let i = 0; i < 5000; i++) {
      const file = new ListedFile(`${i}.M${i}P1.host:2,S`, 'cur', ':', `${i}.M${i}P1.host`);
      if (i % 3 === 0) file.hash = i.toString(16).padStart(64, '0');
      table.set(file);
    }
    for (let i = 0; i < 5000; i += 7) table.delete(`${i}.M${i}P1.host`);
    expect(table.packedCount).toBeGreaterThan(1000);
    let found = 0;
    for (let i = 0; i < 5000; i++) {
      const file = table.get(`${i}.M${i}P1.host`);
      if (i % 7 === 0) {
        expect(file).toBeUndefined();
        continue;
      }
      found++;
      expect(file?.name).toBe(`${i}.M${i}P1.host:2,S`);
      expect(file?.hash).toBe(i % 3 === 0 ? i.toString(16).padStart(64, '0') : undefined);
      expect(file?.parsed.flags).toBe('S');
    }
    expect(table.size).toBe(found);
  });

  it('gives every file it held when asked, also when packed while they are given', () => {
    const table = FileTable.of(':', [new ListedFile('1.M1P1.host:2,S', 'cur', ':', '1.M1P1.host')]);
    table.pack();
    table.set(new ListedFile('2.M2P1.host', 'new', ':', '2.M2P1.host'));
    const given: string[] = [];
    for (const file of table.values()) {
      given.push(file.guid);
      // A caller that awaits between files: a placement or a cache record packs the table meanwhile.
      table.pack();
    }
    expect(given.sort()).toEqual(['1.M1P1.host', '2.M2P1.host']);
  });

  it('takes a cache record holding damage for none', () => {
    const good = FileTable.of(':', [new ListedFile('1.M1P1.host:2,S', 'cur', ':', '1.M1P1.host'), new ListedFile('2.M2P1.host', 'new', ':', '2.M2P1.host')]);
    const record = Buffer.from(good.toRecord(() => undefined));
    expect(sorted(FileTable.fromRecord(record, ':')?.values() ?? [])).toEqual(sorted(good.values()));
    // One location letter short; a name with a slash; the same GUID twice; cut short.
    const pack = (names: string, locations: string, hashes: string): Buffer => {
      const parts = [names, locations, hashes].map((p) => Buffer.from(p));
      const head = Buffer.alloc(12);
      parts.forEach((p, i) => head.writeUInt32BE(p.length, i * 4));
      return Buffer.concat([head, ...parts]);
    };
    expect(FileTable.fromRecord(pack('a\0b', 'c', '\0'), ':')).toBeUndefined();
    expect(FileTable.fromRecord(pack('a/x\0b', 'cc', '\0'), ':')).toBeUndefined();
    expect(FileTable.fromRecord(pack('a:2,S\0a:2,F', 'cc', '\0'), ':')).toBeUndefined();
    expect(FileTable.fromRecord(record.subarray(0, record.length - 1), ':')).toBeUndefined();
    expect(FileTable.fromRecord(pack('a\0\0b', 'ccc', '\0\0'), ':')).toBeUndefined();
    expect(FileTable.fromRecord(pack('', '', ''), ':')?.size).toBe(0);
    expect(guidOfName('a:2,S')).toBe('a');
  });
});
