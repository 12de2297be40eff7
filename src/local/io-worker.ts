// The worker thread of io-pool.ts: runs batches of message-file I/O and answers with outcomes.

import { parentPort, workerData } from 'node:worker_threads';
import { shareCrashCounter } from '../crash-point.js';
import { runJob, type Job } from './batch-io.js';

shareCrashCounter((workerData as { crashCounter: SharedArrayBuffer }).crashCounter);

parentPort?.on('message', ({ id, job }: { id: number; job: Job }) => {
  try {
    // Bodies read here are in shared memory: they cross to the main thread without a copy.
    parentPort?.postMessage({ id, result: runJob(job) });
  } catch (err) {
    parentPort?.postMessage({ id, error: (err as Error).message });
  }
});
