// The worker thread of pool.ts: runs batches of message-file I/O and answers with outcomes.

import { parentPort, workerData } from 'node:worker_threads';
import { runJob } from './batch.js';
import { packOutcomes, unpackJob, type PackedJob } from './wire.js';
import { shareCrashCounter } from '../disk.js';

shareCrashCounter((workerData as { crashCounter: SharedArrayBuffer }).crashCounter);

parentPort?.on('message', async ({ id, job }: { id: number; job: PackedJob }) => {
  try {
    const result = packOutcomes(await runJob(unpackJob(job)));
    // Bodies read here go to the main thread without a copy.
    const transfer = result.data.flatMap((d) => (d ? [d.buffer as ArrayBuffer] : []));
    parentPort?.postMessage({ id, result }, transfer);
  } catch (err) {
    parentPort?.postMessage({ id, error: (err as Error).message });
  }
});

// Jobs are sent here only from now on: until then the main thread runs them itself.
Atomics.store((workerData as { ready: Int32Array }).ready, 0, 1);
