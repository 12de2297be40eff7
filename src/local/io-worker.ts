// The worker thread of io-pool.ts: runs batches of message-file I/O and answers with outcomes.

import { parentPort, workerData } from 'node:worker_threads';
import { shareCrashCounter } from '../crash-point.js';
import { runJob, type Job } from './batch-io.js';

shareCrashCounter((workerData as { crashCounter: SharedArrayBuffer }).crashCounter);

parentPort?.on('message', ({ id, job }: { id: number; job: Job }) => {
  try {
    const result = runJob(job);
    // Bodies read here go to the main thread without a copy.
    const transfer = job.kind === 'read' ? result.flatMap((r) => ('data' in r ? [r.data.buffer as ArrayBuffer] : [])) : [];
    parentPort?.postMessage({ id, result }, transfer);
  } catch (err) {
    parentPort?.postMessage({ id, error: (err as Error).message });
  }
});
