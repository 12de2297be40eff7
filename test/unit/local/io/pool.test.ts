// The copying threads: a run of a few hundred files never starts them; a larger one hands its
// batches to them once they are ready, and every outcome is the same either way.

import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoPool, START_AFTER_FILES, THREADS_FROM_FILES } from '../../../../src/local/io/pool.js';

// The compiled thread (npm test builds it first): run from sources, the pool finds none.
const WORKER = fileURLToPath(new URL('../../../../dist/src/local/io/worker.js', import.meta.url));
const BATCH = 64;

let dir: string;
const paths: string[] = [];
const bodies: Buffer[] = [];
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdsync-io-pool-'));
  for (let i = 0; i < BATCH; i++) {
    const body = Buffer.from(`Subject: message ${i}\r\n\r\n${'x'.repeat(i * 37)}\r\n`);
    const path = join(dir, `${1_700_000_000 + i}.M${i}P1.host:2,S`);
    await writeFile(path, body);
    paths.push(path);
    bodies.push(body);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function hashBatch(pool: IoPool): Promise<void> {
  const outcomes = await pool.run({ kind: 'hash', paths });
  expect(outcomes).toEqual(bodies.map((b) => ({ kind: 'ok', hash: sha256(b) })));
}

describe('IoPool', () => {
  const pool = new IoPool(WORKER);

  it(`runs batches adding up to fewer than ${START_AFTER_FILES} files inline, starting no thread`, async () => {
    const batches = Math.floor((START_AFTER_FILES - 1) / BATCH);
    for (let i = 0; i < batches; i++) await hashBatch(pool);
    expect(pool.activity).toEqual({ inlineFiles: batches * BATCH, threadsStarted: 0, threadsReady: 0, threadJobs: 0 });
  });

  it('past that, starts its threads and hands them batches once they are ready, with the same outcomes; reads come back whole', async () => {
    const deadline = Date.now() + 20_000;
    // Batches keep running here while the threads load their code, one after another with no
    // turn of the event loop between them (as a run's do): the threads are found ready all the same.
    while (pool.activity.threadJobs === 0 && Date.now() < deadline) await hashBatch(pool);
    const { inlineFiles, threadsStarted, threadsReady, threadJobs } = pool.activity;
    expect(threadsStarted).toBe(2);
    expect(threadsReady).toBeGreaterThan(0);
    expect(threadJobs).toBe(1);
    expect(inlineFiles).toBeGreaterThanOrEqual(START_AFTER_FILES);
    const reads = await pool.run({ kind: 'read', paths, inlineMax: 1 << 20 });
    expect(pool.activity.threadJobs).toBe(2);
    expect(reads.map((r) => (r.kind === 'ok' ? Buffer.from(r.data).toString() : r.kind))).toEqual(bodies.map((b) => b.toString()));
  });
});

describe('IoPool told how many files a run moves', () => {
  it(`starts no thread for a run of fewer than ${THREADS_FROM_FILES} files, past ${START_AFTER_FILES} too`, async () => {
    const pool = new IoPool(WORKER);
    pool.expect(THREADS_FROM_FILES - 1);
    const batches = Math.ceil((THREADS_FROM_FILES - 1) / BATCH);
    for (let i = 0; i < batches; i++) await hashBatch(pool);
    expect(pool.activity).toEqual({ inlineFiles: batches * BATCH, threadsStarted: 0, threadsReady: 0, threadJobs: 0 });
  });

  it('starts them as ever for a larger one', async () => {
    const pool = new IoPool(WORKER);
    pool.expect(THREADS_FROM_FILES);
    const batches = Math.ceil(START_AFTER_FILES / BATCH);
    for (let i = 0; i < batches; i++) await hashBatch(pool);
    await hashBatch(pool);
    expect(pool.activity.threadsStarted).toBe(2);
  });
});
