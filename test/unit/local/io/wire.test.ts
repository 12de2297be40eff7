// Jobs and outcomes of the copying threads, packed to cross between threads and unpacked as they were.

import { describe, expect, it } from 'vitest';
import type { CopyOutcome, Job, ReadOutcome } from '../../../../src/local/io/batch.js';
import { MessageChannel } from 'node:worker_threads';
import { packJob, packOutcomes, transferOf, unpackJob, unpackOutcomes, type PackedJob } from '../../../../src/local/io/wire.js';

// Names as a Maildir can hold them: separators, commas, non-ASCII, an empty-looking info.
const paths = ['/m/.Entwürfe/cur/1700000000.M1P2Q3.host,S=10:2,FS', '/m/cur/台北:2,', '/m/new/x', '/m/cur/a,b;c!d'];

describe('packJob / unpackJob', () => {
  const jobs: Job[] = [
    { kind: 'read', paths, inlineMax: 1024 },
    { kind: 'hash', paths },
    { kind: 'hash', paths: [] },
    {
      kind: 'write',
      items: paths.map((target, i) => ({ tmp: `/m/tmp/t${i}`, target, data: new TextEncoder().encode(`body ${i}`), mtimeMs: 1_600_000_000_123 + i })),
      owner: { uid: 8, gid: 12 },
      direct: false,
    },
    { kind: 'write', items: [{ tmp: '', target: '/m/tmp/stage/cur/x', data: new Uint8Array(0), mtimeMs: 0 }], direct: true },
    { kind: 'copy', items: paths.map((source, i) => ({ source, tmp: `/m/tmp/c${i}`, target: `${source}x` })), inlineMax: 4096, link: true, direct: false, twins: false },
    { kind: 'copy', items: [{ source: '/a', tmp: '', target: '/b', hash: 'c'.repeat(64) }], inlineMax: 1, owner: { uid: 0, gid: 0 }, link: false, direct: true, twins: true },
  ];
  for (const job of jobs) {
    it(`unpacks a ${job.kind} job of ${'paths' in job ? job.paths.length : job.items.length} as it was`, () => {
      const again = unpackJob(structuredClone(packJob(job)));
      expect(again).toEqual(job);
    });
  }
});

describe('a write job crossing to a thread', () => {
  it('hands over one buffer of its bodies, and the bodies it was made of stay whole here (a message the thread hands back is placed from them)', async () => {
    const bodies = [Buffer.from('first body'), new Uint8Array(0), Buffer.from('third, after an empty one')];
    const job: Job = { kind: 'write', items: bodies.map((data, i) => ({ tmp: '', target: `/m/cur/${i}`, data, mtimeMs: i })), direct: true };
    const packed = packJob(job);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<PackedJob>((resolve) => port2.once('message', resolve));
    port1.postMessage(packed, transferOf(packed));
    const got = unpackJob(await received);
    port1.close();
    expect(packed.kind === 'write' && packed.bodies.byteLength).toBe(0);
    expect(got.kind === 'write' && got.items.map((i) => Buffer.from(i.data).toString())).toEqual(['first body', '', 'third, after an empty one']);
    expect(bodies.map((b) => Buffer.from(b).toString())).toEqual(['first body', '', 'third, after an empty one']);
  });
});

describe('packOutcomes / unpackOutcomes', () => {
  it('unpacks copy outcomes, those to do again included', () => {
    const outcomes: CopyOutcome[] = [
      { kind: 'ok', hash: 'a'.repeat(64), size: 4531, mtime: 1_546_406_112_000 },
      { kind: 'again' },
      { kind: 'ok', hash: 'b'.repeat(64), size: 0, mtime: 0 },
      { kind: 'twin', inode: '2049:77', hash: 'd'.repeat(64), mtime: 1_546_406_112_000 },
    ];
    expect(unpackOutcomes('copy', structuredClone(packOutcomes(outcomes)))).toEqual(outcomes);
  });

  it('unpacks read outcomes as Buffers of the same bytes', () => {
    const outcomes: ReadOutcome[] = [{ kind: 'again' }, { kind: 'ok', data: Buffer.from('From: x\r\n\r\nhi'), mtime: 123 }];
    const got = unpackOutcomes('read', structuredClone(packOutcomes(outcomes))) as ReadOutcome[];
    expect(got[0]).toEqual({ kind: 'again' });
    const ok = got[1] as Extract<ReadOutcome, { kind: 'ok' }>;
    expect(Buffer.isBuffer(ok.data)).toBe(true);
    expect(ok.data.toString()).toBe('From: x\r\n\r\nhi');
    expect(ok.mtime).toBe(123);
  });

  it('unpacks a read outcome of a file with other names with its inode and hash', () => {
    const outcomes: ReadOutcome[] = [{ kind: 'ok', data: Buffer.from('x'), mtime: 5, inode: '2049:12', hash: 'e'.repeat(64) }, { kind: 'ok', data: Buffer.from('y'), mtime: 6 }];
    const got = unpackOutcomes('read', structuredClone(packOutcomes(outcomes))) as Extract<ReadOutcome, { kind: 'ok' }>[];
    expect(got.map((o) => [o.inode, o.hash])).toEqual([['2049:12', 'e'.repeat(64)], [undefined, undefined]]);
  });

  it('unpacks write and hash outcomes', () => {
    const outcomes = [{ kind: 'ok' as const, hash: 'c'.repeat(64) }, { kind: 'again' as const }];
    expect(unpackOutcomes('write', structuredClone(packOutcomes(outcomes)))).toEqual(outcomes);
    expect(unpackOutcomes('hash', structuredClone(packOutcomes(outcomes)))).toEqual(outcomes);
    expect(unpackOutcomes('hash', structuredClone(packOutcomes([])))).toEqual([]);
  });
});
