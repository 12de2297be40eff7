// UIDNEXT from Dovecot's index files: the main index header and the transaction logs, as Dovecot lays them out.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dovecotNextUid } from '../../../src/local/dovecot-index.js';
import { removeDir, tempDir } from '../../helpers/maildir.js';

let dir: string;

beforeEach(async () => {
  dir = await tempDir();
});

afterEach(async () => {
  await removeDir(dir);
});

/** A log record: its size in Dovecot's 7-bits-per-byte form (4-byte units), type, then data. */
function record(type: number, data: Buffer): Buffer {
  const units = (8 + data.length) / 4;
  const size = Buffer.from([0x80 | ((units >> 21) & 0x7f), 0x80 | ((units >> 14) & 0x7f), 0x80 | ((units >> 7) & 0x7f), 0x80 | (units & 0x7f)]);
  const t = Buffer.alloc(4);
  t.writeUInt32LE(0x10000000 | type);
  return Buffer.concat([size, t, data]);
}

function log(...records: Buffer[]): Buffer {
  const header = Buffer.alloc(40);
  header[0] = 1;
  header[1] = 3;
  header.writeUInt16LE(40, 2);
  header[32] = 1;
  return Buffer.concat([header, ...records]);
}

const u32 = (...values: number[]): Buffer => Buffer.concat(values.map((v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; }));

describe('dovecotNextUid', () => {
  it('is 0 without index files', async () => {
    expect(await dovecotNextUid(dir)).toBe(0);
  });

  it('takes the highest appended UID + 1 from the log', async () => {
    await writeFile(join(dir, 'dovecot.index.log'), log(record(0x02, u32(1, 8, 2, 8, 7, 8))));
    expect(await dovecotNextUid(dir)).toBe(8);
  });

  it('takes next_uid from a header update that covers it, and stops at a damaged record', async () => {
    const update = Buffer.concat([Buffer.from([24, 0, 8, 0]), u32(1234567, 20)]);
    const damaged = Buffer.from([0, 0, 0, 0, 2, 0, 0, 0]);
    await writeFile(join(dir, 'dovecot.index.log'), Buffer.concat([log(record(0x02, u32(3, 0)), record(0x20, update)), damaged, record(0x02, u32(99, 0))]));
    expect(await dovecotNextUid(dir)).toBe(20);
  });

  it('takes the larger of the index header and the logs', async () => {
    const index = Buffer.alloc(64);
    index[0] = 7;
    index[12] = 1;
    index.writeUInt32LE(42, 28);
    await writeFile(join(dir, 'dovecot.index'), index);
    await writeFile(join(dir, 'dovecot.index.log.2'), log(record(0x02, u32(50, 0))));
    await writeFile(join(dir, 'dovecot.index.log'), log(record(0x02, u32(12, 0))));
    expect(await dovecotNextUid(dir)).toBe(51);
  });

  it('ignores files written in the other byte order or another version', async () => {
    const index = Buffer.alloc(64);
    index[0] = 7;
    index.writeUInt32LE(42, 28);
    await writeFile(join(dir, 'dovecot.index'), index);
    const foreign = log(record(0x02, u32(9, 0)));
    foreign[32] = 0;
    await writeFile(join(dir, 'dovecot.index.log'), foreign);
    expect(await dovecotNextUid(dir)).toBe(0);
  });
});
